//! A lot that fails at the review (docs/spec/evaluation.md "A lot that fails"): when the last
//! review leaves fewer valid bids than the lot needed to open, the lot fails with that reason in
//! the same transaction (招标投标法 Art 42; 实施条例 Art 44; 87号令 Art 36): its status, the
//! deposits booked for refund, the audit entry, the owners and bidders told. A final-quote round
//! that leaves too few bidders in fails the lot the same way, in the round's transaction. The owner may then
//! re-tender it as a copy of the tender (`tender::service::copy`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use super::{Phase, load};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::deposit::service::{RefundReason, refund_all};
use crate::error::{DomainError, DomainResult};
use crate::id::{LotId, TenderId};

/// Fails the lot if the reviews now in leave too few valid bids; `true` when it did.
pub(crate) async fn after_review(
    txn: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let room = load(txn, tender, lot).await?.ok_or(DomainError::NotFound)?;
    let already =
        crate::tender::store::lots::Entity::find_by_id((tender.to_string(), lot.to_string()))
            .one(txn)
            .await?
            .is_some_and(|l| l.status == crate::tender::LotStatus::Failed.as_str());
    if room.phase() != Phase::Failed || already {
        return Ok(false);
    }
    let valid = room.valid_bidders().unwrap_or_default().len();
    let reason = format!(
        "{valid} valid bid(s) after the review, fewer than the {} required: the lot fails",
        room.min_valid
    );
    crate::tender::store::queries::set_lot_status(txn, tender.as_str(), lot.as_str(), "failed")
        .await?;
    crate::evaluation::service::status::settle_tender_in(txn, tender.as_str(), now).await?;
    let refunds = refund_all(txn, tender, Some(lot), RefundReason::LotFailed, rate, now).await?;
    let object = format!("lot:{tender}/{lot}");
    audit::append(
        txn,
        NewEntry::new(Chain::tender(tender.as_str()), &Actor::system(), "lot.fail_review", object.clone())
            .details(json!({"valid": valid, "required": room.min_valid, "reason": reason, "refunds": refunds.len()})),
        now,
    )
    .await?;
    let row = crate::tender::store::queries::by_id(txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let message = crate::notify::lot_failed_review(
        &row.title,
        tender.as_str(),
        lot.as_str(),
        valid,
        room.min_valid,
    );
    let mut told = crate::tender::store::queries::owner_organizations(txn, &row).await?;
    told.extend(room.bids.iter().map(|b| b.bidder_id.clone()));
    told.sort();
    told.dedup();
    for org in told {
        crate::notify::service::notify_organization(
            txn,
            &org,
            "lot.failed",
            Some(object.clone()),
            &message,
            true,
            now,
        )
        .await?;
    }
    Ok(true)
}
