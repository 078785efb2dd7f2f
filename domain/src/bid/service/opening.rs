//! The opening (开标, docs/spec/receipts-and-records.md "Opening record"): at the deadline a lot with fewer bids than its
//! minimum fails unopened and its deposits go back; otherwise every current envelope is opened,
//! each bid recorded as opened, revoked (the bidder's fault) or withdrawn (the platform's), and one
//! signed record is published to everyone at once. The record is written once: running the
//! opening again after a crash finds it, or does the same work again and writes it then.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use super::super::store::bids;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use tenderhall_model::state::BidStatus;

use crate::account::store::queries as organization_queries;
use crate::deposit::store::queries::active_registration;
use crate::error::{DomainError, DomainResult};
use crate::id::{LotId, OrganizationId, TenderId};
use crate::keys::store::queries as key_queries;
use crate::keys::store::signing_keys;
use crate::keys::{MasterKey, PlatformSigner};
use crate::store::begin_write;
use crate::tender::store::queries as tender_queries;

use super::super::store::bid_openings;

/// The opening job of one lot, due at the deadline (enqueued when the tender closes).
pub const OPEN_LOT_JOB: &str = "lot.open";

pub fn open_lot_job(tender_id: &str, lot_id: &str, at: DateTime<Utc>) -> crate::jobs::NewJob {
    crate::jobs::NewJob::new(
        OPEN_LOT_JOB,
        json!({"tender_id": tender_id, "lot_id": lot_id}),
        at,
        format!("{OPEN_LOT_JOB}:{tender_id}:{lot_id}"),
    )
}

/// A lot due for opening, with its current bids in the order received.
#[derive(Debug, Clone)]
pub struct LotOpening {
    pub tender_id: TenderId,
    pub lot_id: LotId,
    pub title: String,
    pub deadline: DateTime<Utc>,
    pub min_bids: usize,
    pub opening_fields: Vec<String>,
    pub owners: Vec<String>,
    pub bids: Vec<BidToOpen>,
}

#[derive(Debug, Clone)]
pub struct BidToOpen {
    pub bid: bids::Model,
    pub bidder_name: String,
    /// The signing key the envelope names, revoked or not: a key revoked after the receipt does
    /// not undo the bid.
    pub signer_key: Option<Vec<u8>>,
}

pub use tenderhall_model::bid::{Fault, Outcome, failed_opening};

/// The lot when its opening is due and not yet recorded; `None` otherwise.
pub async fn due(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
    now: DateTime<Utc>,
) -> DomainResult<Option<LotOpening>> {
    let (tender_id, lot_id) = (tender.as_str(), lot.as_str());
    if bid_openings::Entity::find_by_id((tender_id.to_owned(), lot_id.to_owned()))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let Some(row) = tender_queries::by_id(db, tender_id).await? else {
        return Ok(None);
    };
    if now < row.bid_deadline || row.status == "cancelled" || row.status == "draft" {
        return Ok(None);
    }
    let rows = bids::Entity::find()
        .filter(bids::Column::TenderId.eq(tender_id))
        .filter(bids::Column::LotId.eq(lot_id))
        .filter(
            bids::Column::Status.is_in([BidStatus::Current.as_str(), BidStatus::Revoked.as_str()]),
        )
        .order_by_asc(bids::Column::ReceivedAt)
        .all(db)
        .await?;
    let names: HashMap<String, String> =
        organization_queries::names(db, rows.iter().map(|b| b.organization_id.clone())).await?;
    let keys: HashMap<String, signing_keys::Model> =
        key_queries::by_ids(db, rows.iter().map(|b| b.signer_key_id.clone())).await?;
    let bids = rows
        .into_iter()
        .map(|bid| {
            use base64::Engine as _;
            let signer_key = keys
                .get(&bid.signer_key_id)
                .filter(|k| k.organization_id == bid.organization_id)
                .and_then(|k| {
                    base64::engine::general_purpose::STANDARD
                        .decode(&k.public_key)
                        .ok()
                });
            BidToOpen {
                bidder_name: names.get(&bid.organization_id).cloned().unwrap_or_default(),
                signer_key,
                bid,
            }
        })
        .collect();
    let owners = tender_queries::owner_organizations(db, &row).await?;
    Ok(Some(LotOpening {
        tender_id: tender.clone(),
        lot_id: lot.clone(),
        title: row.title,
        deadline: row.bid_deadline,
        min_bids: row
            .min_bids
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(3),
        opening_fields: serde_json::from_str(&row.opening_fields).unwrap_or_default(),
        owners,
        bids,
    }))
}

impl LotOpening {
    /// Too few bids: the lot fails and nothing is decrypted.
    pub fn fails_unopened(&self) -> bool {
        tenderhall_model::bid::lot_fails_unopened(self.bids.len(), self.min_bids)
    }
}

/// The lot's opening key, unwrapped in its own audited transaction.
pub async fn unwrap_key(
    db: &DatabaseConnection,
    master: &MasterKey,
    opening: &LotOpening,
    now: DateTime<Utc>,
) -> DomainResult<[u8; 32]> {
    let txn = begin_write(db).await?;
    let secret = super::keys::unwrap_opening_key(
        &txn,
        master,
        &opening.tender_id,
        &opening.lot_id,
        opening.deadline,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// Writes the signed record, the bids' outcomes, the lot's status and (for a failed lot) the
/// deposit refunds in one transaction with its audit entry and the bidders' notices. A record
/// already there is returned as it is.
pub async fn record(
    db: &DatabaseConnection,
    master: &MasterKey,
    signer: &PlatformSigner,
    opening: &LotOpening,
    outcomes: &HashMap<String, Outcome>,
    interest_rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let txn = begin_write(db).await?;
    if let Some(existing) = bid_openings::Entity::find_by_id((
        opening.tender_id.to_string(),
        opening.lot_id.to_string(),
    ))
    .one(&txn)
    .await?
    {
        txn.rollback().await?;
        return serde_json::from_str(&existing.record).map_err(DomainError::internal);
    }
    let failed = opening.fails_unopened();
    let mut lines = Vec::new();
    if !failed {
        for b in &opening.bids {
            let outcome = tenderhall_model::bid::outcome_at_opening(
                BidStatus::parse(&b.bid.status),
                outcomes.get(&b.bid.id),
            );
            let registration = active_registration(
                &txn,
                opening.tender_id.as_str(),
                opening.lot_id.as_str(),
                &b.bid.organization_id,
            )
            .await?;
            let deposit_status = match &registration {
                Some(r) => crate::deposit::service::status_at(&txn, r, opening.deadline)
                    .await?
                    .0
                    .as_str(),
                None => "unpaid",
            };
            let mut line = json!({
                "bidder_id": b.bid.organization_id,
                "bidder_name": b.bidder_name,
                "envelope_sha256": b.bid.envelope_sha256,
                "received_at": crate::time::rfc3339(b.bid.received_at),
                "status": outcome.status(),
                "reason": match &outcome {
                    Outcome::Opened { .. } => Value::Null,
                    Outcome::Revoked(r) | Outcome::Withdrawn(r) => Value::String(r.clone()),
                },
                "deposit_status": deposit_status,
            });
            let (reason, plaintext) = match &outcome {
                Outcome::Opened {
                    fields,
                    plaintext_sha256,
                } => {
                    line["fields"] = json!(fields);
                    (None, Some(plaintext_sha256.clone()))
                }
                Outcome::Revoked(r) | Outcome::Withdrawn(r) => (Some(r.clone()), None),
            };
            bids::Entity::update(bids::ActiveModel {
                id: Set(b.bid.id.clone()),
                outcome: Set(Some(outcome.status().to_owned())),
                outcome_reason: Set(reason),
                plaintext_sha256: Set(plaintext),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            lines.push(line);
        }
    }
    let status = if failed { "failed" } else { "opened" };
    let reason = failed.then(|| {
        format!(
            "{} bid(s) received, fewer than the {} required: the lot fails unopened",
            opening.bids.len(),
            opening.min_bids
        )
    });
    let mut record = json!({
        "tender": opening.tender_id.as_str(),
        "lot": opening.lot_id.as_str(),
        "status": status,
        "reason": reason,
        "opened_at": crate::time::rfc3339(now),
        "platform_key": signer.key_id(),
        "bids": lines,
    });
    let signature = signer.sign(to_canonical_string(&record).as_bytes());
    record["signature"] = Value::String(signature);
    if !failed {
        // K, drawn from the record nobody could know before the bids (docs/spec/evaluation.md "K").
        crate::evaluation::service::price_k::reveal(
            &txn,
            master,
            signer,
            &opening.tender_id,
            &opening.lot_id,
            &to_canonical_string(&record),
            now,
        )
        .await?;
    }
    tender_queries::set_lot_status(
        &txn,
        opening.tender_id.as_str(),
        opening.lot_id.as_str(),
        status,
    )
    .await?;
    crate::evaluation::service::status::mark_evaluating_if_seated(
        &txn,
        opening.tender_id.as_str(),
        opening.lot_id.as_str(),
    )
    .await?;
    if failed {
        crate::deposit::service::refund_all(
            &txn,
            &opening.tender_id,
            Some(&opening.lot_id),
            crate::deposit::service::RefundReason::LotFailed,
            interest_rate,
            now,
        )
        .await?;
    }
    bid_openings::Entity::insert(bid_openings::ActiveModel {
        tender_id: Set(opening.tender_id.to_string()),
        lot_id: Set(opening.lot_id.to_string()),
        status: Set(status.to_owned()),
        record: Set(to_canonical_string(&record)),
        opened_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(opening.tender_id.as_str()),
            &Actor::system(),
            if failed { "lot.fail" } else { "lot.open" },
            format!("lot:{}/{}", opening.tender_id, opening.lot_id),
        )
        .details(json!({"bids": opening.bids.len(), "status": status})),
        now,
    )
    .await?;
    let message = crate::notify::lot_opened(
        &opening.title,
        opening.tender_id.as_str(),
        opening.lot_id.as_str(),
        failed,
    );
    let object = Some(format!("lot:{}/{}", opening.tender_id, opening.lot_id));
    let mut told: Vec<&str> = opening.owners.iter().map(String::as_str).collect();
    told.extend(opening.bids.iter().map(|b| b.bid.organization_id.as_str()));
    told.sort_unstable();
    told.dedup();
    for org in told {
        crate::notify::service::notify_organization(
            &txn,
            org,
            "lot.opened",
            object.clone(),
            &message,
            true,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(record)
}

/// The signed record of a lot, once opened or failed (anyone).
pub async fn published_record(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Option<Value>> {
    bid_openings::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(db)
        .await?
        .map(|row| serde_json::from_str(&row.record).map_err(DomainError::internal))
        .transpose()
}

/// A decrypted bid to hand out after the opening: its archive's object in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedArchive {
    pub plaintext_sha256: String,
    pub organization_id: String,
}

/// The decrypted archive of `bidder`'s bid, once opened (docs/spec/visibility.md): the bidder its
/// own, the tender's owners and supervisors every one; anybody else, and anything before the
/// opening, is `NotFound` (nothing tells whether there is a bid).
pub async fn opened_archive(
    db: &impl ConnectionTrait,
    principal: &crate::account::Principal,
    tender: &TenderId,
    lot: &LotId,
    bidder: &OrganizationId,
) -> DomainResult<OpenedArchive> {
    let (tender_id, lot_id, bidder) = (tender.as_str(), lot.as_str(), bidder.as_str());
    // The tender's owners: its tenderer, and its agency while mandated (委托代理).
    let tender = crate::tender::service::load(db, tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let owner = tender.is_owned_by(principal);
    // The seated committee reads every bid it evaluates (docs/spec/evaluation.md).
    if !(owner
        || principal.is_supervisor()
        || principal.is_member_of(bidder)
        || crate::evaluation::service::room::is_member(db, principal, tender_id, lot_id).await?)
    {
        return Err(DomainError::NotFound);
    }
    bid_openings::Entity::find_by_id((tender_id.to_owned(), lot_id.to_owned()))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let bid = bids::Entity::find()
        .filter(bids::Column::TenderId.eq(tender_id))
        .filter(bids::Column::LotId.eq(lot_id))
        .filter(bids::Column::OrganizationId.eq(bidder))
        .filter(bids::Column::Outcome.eq("opened"))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok(OpenedArchive {
        plaintext_sha256: bid.plaintext_sha256.ok_or(DomainError::NotFound)?,
        organization_id: bid.organization_id,
    })
}
