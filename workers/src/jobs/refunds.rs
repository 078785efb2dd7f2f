//! The refund job: hands a booked refund to the bank gateway (see
//! `tenderhall_domain::deposit::service::send_refund`).

use anyhow::Context;
use tenderhall_domain::deposit::service::send_refund;
use tenderhall_domain::jobs::service::Job;

use crate::WorkerContext;

pub async fn send(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let refund_id = job.payload["refund_id"]
        .as_str()
        .context("refund job without refund_id")?;
    send_refund(&ctx.db, ctx.bank.as_ref(), refund_id, ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(
        refund = refund_id,
        gateway = ctx.bank.name(),
        "refund instructed"
    );
    Ok(())
}
