//! Job handlers, by kind. Every handler may run twice for one job (a worker may die after the
//! effect and before recording it): each makes a second run change nothing.

pub mod auctions;
pub mod audit_heads;
pub mod contracts;
pub mod deadlines;
pub mod draws;
pub mod mail;
pub mod objections;
pub mod opening;
pub mod refunds;
pub mod rounds;
pub mod scrub;

use anyhow::bail;
use tenderhall_domain::auction::CLOSE_JOB as AUCTION_CLOSE_JOB;
use tenderhall_domain::bid::opening::OPEN_LOT_JOB;
use tenderhall_domain::deposit::service::REFUND_JOB;
use tenderhall_domain::draw::{EXPIRY_JOB, INPUT_JOB};
use tenderhall_domain::evaluation::service::award::CONTRACT_REMINDER_JOB;
use tenderhall_domain::evaluation::service::candidates::ANSWER_DUE_JOB;
use tenderhall_domain::evaluation::service::complaints::COMPLAINT_DUE_JOB;
use tenderhall_domain::evaluation::service::room::clarify::CLARIFICATION_DUE_JOB;
use tenderhall_domain::evaluation::service::rounds::ROUND_OPEN_JOB;
use tenderhall_domain::jobs::service::Job;
use tenderhall_domain::notify::MAIL_JOB;
use tenderhall_domain::tender::service::{DEADLINE_JOB, QUESTIONS_CLOSE_JOB, SCRUB_JOB};

use crate::WorkerContext;

pub async fn dispatch(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    match job.kind.as_str() {
        DEADLINE_JOB => deadlines::close_tender(ctx, job).await,
        QUESTIONS_CLOSE_JOB => deadlines::close_question_period(ctx, job).await,
        OPEN_LOT_JOB => opening::open_lot(ctx, job).await,
        AUCTION_CLOSE_JOB => auctions::close(ctx, job).await,
        MAIL_JOB => mail::send(ctx, job).await,
        SCRUB_JOB => scrub::run(ctx, job).await,
        REFUND_JOB => refunds::send(ctx, job).await,
        INPUT_JOB => draws::fix_input(ctx, job).await,
        EXPIRY_JOB => draws::expire_invitation(ctx, job).await,
        ANSWER_DUE_JOB => objections::answer_due(ctx, job).await,
        CLARIFICATION_DUE_JOB => objections::clarification_due(ctx, job).await,
        COMPLAINT_DUE_JOB => objections::complaint_due(ctx, job).await,
        ROUND_OPEN_JOB => rounds::open_round(ctx, job).await,
        CONTRACT_REMINDER_JOB => contracts::remind(ctx, job).await,
        other => bail!("no handler for job kind `{other}`"),
    }
}
