//! The mail job: sends one rendered message, once per idempotency key.

use anyhow::Context;
use tenderhall_domain::jobs::service::Job;
use tenderhall_domain::notify::MailMessage;
use tenderhall_domain::notify::service::{mail_already_sent, record_mail_sent};

use crate::WorkerContext;

pub async fn send(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let message: MailMessage =
        serde_json::from_value(job.payload.clone()).context("a mail job without a message")?;
    let domain = |e: tenderhall_domain::DomainError| anyhow::anyhow!("{e}");
    // A server that accepted it before this job's last run (whose worker died) gets nothing again.
    if mail_already_sent(&ctx.db, &message.message_key)
        .await
        .map_err(domain)?
    {
        return Ok(());
    }
    ctx.mailer.send(&ctx.mail_from, &message).await?;
    record_mail_sent(
        &ctx.db,
        &message,
        ctx.mailer.transport_name(),
        ctx.clock.now(),
    )
    .await
    .map_err(domain)?;
    Ok(())
}
