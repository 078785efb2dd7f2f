//! The chronograph's contract reminder (招标投标法 Art 46; docs/spec/evaluation.md "Award and
//! contract"): before the contract is due, the owners and the winner are reminded once if none
//! is recorded.

use anyhow::Context;
use tenderhall_domain::evaluation::service::award;
use tenderhall_domain::id::{LotId, TenderId};
use tenderhall_domain::jobs::service::Job;

use crate::WorkerContext;

pub async fn remind(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let tender = job.payload["tender_id"]
        .as_str()
        .context("reminder without tender_id")?;
    let lot = job.payload["lot_id"]
        .as_str()
        .context("reminder without lot_id")?;
    let (Ok(tender), Ok(lot)) = (TenderId::parse(tender), LotId::parse(lot)) else {
        return Ok(());
    };
    award::contract_reminder(&ctx.db, &tender, &lot, ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}
