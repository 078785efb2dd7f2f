//! The opening of a final-quote round at its deadline (docs/spec/evaluation.md "Final quotes"):
//! the round's key is unwrapped, every quote opens like a bid (`opening::open_envelope`), and the
//! domain signs the round's record. A quote that cannot be opened never stops the others.

use std::collections::HashMap;

use anyhow::Context;
use tenderhall_domain::evaluation::service::rounds;
use tenderhall_domain::jobs::service::Job;
use tenderhall_domain::keys::key_id;

use super::opening::{Sealed, open_envelope};
use crate::WorkerContext;

pub async fn open_round(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let round_id = job.payload["round_id"]
        .as_str()
        .context("round job without round_id")?;
    let domain = |e: tenderhall_domain::DomainError| anyhow::anyhow!("{e}");
    let now = ctx.clock.now();
    let Some(round) = rounds::due(&ctx.db, round_id, now).await.map_err(domain)? else {
        return Ok(());
    };
    let mut outcomes = HashMap::new();
    if !round.quotes.is_empty() {
        let secret = rounds::unwrap_key(&ctx.db, &ctx.master_key, &round, now)
            .await
            .map_err(domain)?;
        let recipient = tenderhall_domain::bid::hpke::public_of(&secret)
            .map(|public| key_id(&public))
            .context("the round's key is not an X25519 key")?;
        for q in &round.quotes {
            let sealed = Sealed {
                tender: round.tender_id.to_string(),
                lot: round.lot_id.to_string(),
                bidder: q.quote.organization_id.clone(),
                envelope_sha256: q.quote.envelope_sha256.clone(),
                signer_id: q.quote.signer_key_id.clone(),
                signer_key: q.signer_key.clone(),
                opening_fields: round.opening_fields.clone(),
            };
            let outcome = open_envelope(ctx, sealed, &secret, &recipient).await;
            outcomes.insert(q.quote.organization_id.clone(), outcome);
        }
    }
    let record = rounds::record(
        &ctx.db,
        &ctx.signer,
        &round,
        &outcomes,
        ctx.interest_rate,
        ctx.clock.now(),
    )
    .await
    .map_err(domain)?;
    tracing::info!(
        round = round_id,
        quotes = round.quotes.len(),
        opened_at = record["opened_at"].as_str().unwrap_or_default(),
        "final-quote round opened"
    );
    Ok(())
}
