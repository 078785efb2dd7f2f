//! The chronograph's objection job (实施条例 Art 54; docs/spec/evaluation.md "Candidates and
//! objections"): an objection still unanswered at its due time is recorded as overdue, once.

use anyhow::Context;
use tenderhall_domain::evaluation::service::candidates;
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
