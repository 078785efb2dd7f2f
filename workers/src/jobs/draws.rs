//! The chronograph's draw jobs (docs/spec/draws.md): the public input is fixed when the
//! contribution window ends, and an invitation unanswered at its end passes the seat on
//! (87号令 Art 49). Both leave a draw already past that step as it is, so a second run changes
//! nothing.

use anyhow::{Context, bail};
use tenderhall_domain::draw::service as draws;
use tenderhall_domain::jobs::service::Job;

use crate::WorkerContext;

pub async fn fix_input(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let draw_id = job.payload["draw_id"]
        .as_str()
        .context("draw input job without draw_id")?;
    let fixed = draws::fix_input(&ctx.db, ctx.draw_context(), draw_id, ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !fixed {
        // No contribution and no audit head signed since the commitment yet: the job retries
        // until the periodic signer publishes one.
        bail!("draw {draw_id} waits for an audit head signed after its commitment");
    }
    ctx.wake.notify_one();
    Ok(())
}

pub async fn expire_invitation(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let invitation_id = job.payload["invitation_id"]
        .as_str()
        .context("invitation expiry job without invitation_id")?;
    let done = draws::expire(&ctx.db, ctx.draw_context(), invitation_id, ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !done {
        bail!("invitation {invitation_id} is not due yet");
    }
    ctx.wake.notify_one();
    Ok(())
}
