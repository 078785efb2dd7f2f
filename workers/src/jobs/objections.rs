//! The chronograph's objection job (实施条例 Art 54; docs/spec/evaluation.md "Candidates and
//! objections"): an objection still unanswered at its due time is recorded as overdue, once; a
//! clarification the committee asked lapses at its deadline ("Clarifications"); a complaint not
//! accepted or decided in time is recorded as overdue ("Complaints").

use anyhow::Context;
use tenderhall_domain::evaluation::service::candidates;
use tenderhall_domain::evaluation::service::complaints;
use tenderhall_domain::evaluation::service::room::clarify;
use tenderhall_domain::jobs::service::Job;

use crate::WorkerContext;

pub async fn answer_due(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let id = job.payload["objection_id"]
        .as_str()
        .context("objection job without objection_id")?;
    candidates::answer_due(&ctx.db, id, ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

pub async fn clarification_due(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let id = job.payload["clarification_id"]
        .as_str()
        .context("clarification job without clarification_id")?;
    clarify::lapse(&ctx.db, id, ctx.interest_rate, ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

pub async fn complaint_due(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let id = job.payload["complaint_id"]
        .as_str()
        .context("complaint job without complaint_id")?;
    let step = job.payload["step"].as_str().unwrap_or("accept");
    complaints::due(&ctx.db, id, step, ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}
