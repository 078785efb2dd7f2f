//! The chronograph's deadline jobs: a tender moves to `closed` at its bid deadline.

use anyhow::Context;
use tenderhall_domain::jobs::service::Job;
use tenderhall_domain::tender::service::close_at_deadline;

use crate::WorkerContext;

pub async fn close_tender(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let tender_id = job.payload["tender_id"]
        .as_str()
        .context("deadline job without tender_id")?;
    let now = ctx.clock.now();
    let closed = close_at_deadline(&ctx.db, tender_id, now)
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
