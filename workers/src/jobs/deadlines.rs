//! The chronograph's deadline jobs: a tender's question period ends 10 days before its bid
//! deadline, and the tender moves to `closed` at the deadline.

use anyhow::Context;
use tenderhall_domain::id::TenderId;
use tenderhall_domain::jobs::service::Job;
use tenderhall_domain::tender::service::{close_at_deadline, close_questions};

use crate::WorkerContext;

pub async fn close_tender(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let tender_id = job.payload["tender_id"]
        .as_str()
        .context("deadline job without tender_id")?;
    // An id that is no id names no tender: nothing to close, as for any unknown one.
    let Ok(tender) = TenderId::parse(tender_id) else {
        return Ok(());
    };
    let now = ctx.clock.now();
    let closed = close_at_deadline(&ctx.db, &tender, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if closed {
        tracing::info!(
            tender = tender_id,
            late_ms = (now - job.run_at).num_milliseconds(),
            "tender closed at its deadline"
        );
    }
    Ok(())
}

pub async fn close_question_period(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let tender_id = job.payload["tender_id"]
        .as_str()
        .context("question cut-off job without tender_id")?;
    // As above: an id that is no id has no question period to end.
    let Ok(tender) = TenderId::parse(tender_id) else {
        return Ok(());
    };
    if close_questions(&ctx.db, &tender, ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        tracing::info!(tender = tender_id, "question period ended");
    }
    Ok(())
}
