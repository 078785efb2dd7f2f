//! The auction close (docs/auctions.md): the chronograph looks at an auction when its clock should
//! end something; the domain records what the clock did, re-arms the look, or closes it once.

use anyhow::Context;
use tenderhall_domain::id::{LotId, TenderId};
use tenderhall_domain::jobs::service::Job;

use crate::WorkerContext;

pub async fn close(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let tender_id = job.payload["tender_id"]
        .as_str()
        .context("auction close job without tender_id")?;
    let lot_id = job.payload["lot_id"]
        .as_str()
        .context("auction close job without lot_id")?;
    // Ids that are no ids name no auction: nothing is due.
    let (Ok(tender), Ok(lot)) = (TenderId::parse(tender_id), LotId::parse(lot_id)) else {
        return Ok(());
    };
    let record = tenderhall_domain::auction::close(
        &ctx.db,
        &ctx.master_key,
        &ctx.signer,
        &tender,
        &lot,
        ctx.interest_rate,
        ctx.clock.now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(record) = record {
        tracing::info!(
            tender = tender_id,
            lot = lot_id,
            status = record["status"].as_str().unwrap_or_default(),
            "auction closed"
        );
    }
    Ok(())
}
