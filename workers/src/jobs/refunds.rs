//! The refund job: hands a booked refund to the bank gateway (see
//! `tenderhall_domain::deposit::service::send_refund`).

use anyhow::Context;
use tenderhall_domain::deposit::service::send_refund;
use tenderhall_domain::id::RefundId;
use tenderhall_domain::jobs::service::Job;

use crate::WorkerContext;

pub async fn send(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let refund_id = job.payload["refund_id"]
        .as_str()
        .context("refund job without refund_id")?;
    // An id that is no id fails as an unknown refund does: not found.
    let refund = RefundId::parse(refund_id).map_err(|e| anyhow::anyhow!("{e}"))?;
    send_refund(&ctx.db, ctx.bank.as_ref(), &refund, ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(
        refund = refund_id,
        gateway = ctx.bank.name(),
        "refund instructed"
    );
    Ok(())
}
