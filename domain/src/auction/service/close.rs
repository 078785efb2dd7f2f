//! The close (docs/auctions.md "The reserve and the result"): the chronograph's job looks at the
//! auction when its clock should end something, records what the clock did, and re-arms itself
//! while bids keep moving the end. Once bidding has ended it reveals the reserve, decides the
//! outcome, signs the record and the confirmation of the sale (成交确认书), settles the deposits
//! and tells the parties, in one transaction, once.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tenderhall_model::auction::{self as rules, AuctionStatus, Form};

use super::super::store::{auction_bidders, auction_bids, auctions};
use super::state::{load, save_state, state_of};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use crate::error::{DomainError, DomainResult};
use crate::id::{LotId, TenderId};
use crate::jobs::{NewJob, service as jobs};
use crate::keys::{MasterKey, PlatformSigner};
use crate::money::Money;
use crate::store::begin_write;
use crate::tender::TenderStatus;

/// The chronograph's look at one auction.
pub const CLOSE_JOB: &str = "auction.close";

/// The close job due at `at`; one per instant, so re-arming at the same end is asked once.
pub fn close_job(tender_id: &str, lot_id: &str, at: DateTime<Utc>) -> NewJob {
    NewJob::new(
        CLOSE_JOB,
        json!({"tender_id": tender_id, "lot_id": lot_id}),
        at,
        format!("{CLOSE_JOB}:{tender_id}:{lot_id}:{}", at.timestamp_micros()),
    )
}

/// Runs the close job: records the clock's changes up to `now` and re-arms at the next end, or,
/// once bidding has ended, closes the auction. Answers the signed record when this call (or an
/// earlier one) closed it; `None` while it goes on. Idempotent.
pub async fn close(
    db: &DatabaseConnection,
    master: &MasterKey,
    signer: &PlatformSigner,
    tender: &TenderId,
    lot: &LotId,
    interest_rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Option<Value>> {
    let txn = begin_write(db).await?;
    let loaded = match load(&txn, tender.as_str(), lot.as_str(), true).await {
        Ok(loaded) => loaded,
        Err(DomainError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    if let Some(record) = &loaded.row.record {
        return serde_json::from_str(record)
            .map(Some)
            .map_err(DomainError::internal);
    }
    let tender_status = TenderStatus::parse(&loaded.tender.status);
    if loaded.row.result.is_some() || tender_status == Some(TenderStatus::Cancelled) {
        // A cancelled tender refunded every deposit with its cancellation; the auction just stops.
        if loaded.row.result.is_none() {
            auctions::Entity::update(auctions::ActiveModel {
                tender_id: Set(loaded.row.tender_id.clone()),
                lot_id: Set(loaded.row.lot_id.clone()),
                result: Set(Some("cancelled".to_owned())),
                closed_at: Set(Some(now)),
                updated_at: Set(now),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            txn.commit().await?;
        }
        return Ok(None);
    }
    let mut state = state_of(&loaded.row, loaded.currency)?;
    let before = state.clone();
    let changes = rules::advance(&loaded.terms, &mut state, now);
    if state.status != AuctionStatus::Ended {
        if state != before {
            save_state(&txn, &loaded.row, &state, loaded.currency, now).await?;
        }
        // Still going: look again when the clock next ends something. An amended bid deadline
        // moves the opening, and with it this look.
        let next = state.ends_at.unwrap_or(loaded.terms.opens_at).max(now);
        jobs::enqueue(&txn, close_job(tender.as_str(), lot.as_str(), next), now).await?;
        txn.commit().await?;
        return Ok(None);
    }
    // The instant the clock ended bidding: a change recorded now, or one stored earlier (a taken
    // dutch price ends at its bid).
    let ended_at = changes
        .iter()
        .find(|c| c.status == AuctionStatus::Ended)
        .map(|c| c.at)
        .or_else(|| {
            (loaded.public.form == Form::Dutch)
                .then(|| state.leader.as_ref().map(|l| l.at))
                .flatten()
        })
        .or(loaded.row.ends_at)
        .unwrap_or(now);
    save_state(&txn, &loaded.row, &state, loaded.currency, now).await?;

    // The reserve, sealed to the lot's opening key since publication, is revealed now.
    let lot_row = crate::tender::store::lots::Entity::find_by_id((
        tender.as_str().to_owned(),
        lot.as_str().to_owned(),
    ))
    .one(&txn)
    .await?
    .ok_or(DomainError::NotFound)?;
    let reserve = match &lot_row.reserve_sealed {
        Some(sealed) => {
            let secret = crate::bid::keys::unwrap_opening_key(
                &txn,
                master,
                tender,
                lot,
                loaded.tender.bid_deadline,
                now,
            )
            .await?;
            Some(crate::tender::reserve::open_reserve(
                &secret,
                tender.as_str(),
                lot.as_str(),
                sealed,
            )?)
        }
        None => None,
    };
    let outcome = rules::outcome(loaded.public.form, &state, reserve);
    let currency = loaded.currency;
    let money = |amount: Decimal| {
        Money::parse(&amount.to_string(), currency)
            .map(|m| m.amount().to_string())
            .map_err(DomainError::internal)
    };
    let bids = auction_bids::Entity::find()
        .filter(auction_bids::Column::TenderId.eq(tender.as_str()))
        .filter(auction_bids::Column::LotId.eq(lot.as_str()))
        .order_by_asc(auction_bids::Column::Seq)
        .all(&txn)
        .await?;
    let lines: Vec<Value> = bids
        .iter()
        .map(|b| {
            json!({
                "seq": b.seq,
                "pseudonym": b.pseudonym,
                "amount": Money::from_minor_units(b.amount_fen, currency).amount().to_string(),
                "accepted_at": crate::time::rfc3339(b.accepted_at),
            })
        })
        .collect();
    // From the result on, the winner is named (docs/auctions.md "Pseudonyms").
    let winner = match &outcome {
        Ok(leader) => {
            let bidder = auction_bidders::Entity::find()
                .filter(auction_bidders::Column::TenderId.eq(tender.as_str()))
                .filter(auction_bidders::Column::LotId.eq(lot.as_str()))
                .filter(auction_bidders::Column::Pseudonym.eq(leader.bidder.as_str()))
                .one(&txn)
                .await?
                .ok_or_else(|| DomainError::internal("the leader has no bidder row"))?;
            let name = crate::account::store::queries::organization(&txn, &bidder.organization_id)
                .await?
                .map(|o| o.name)
                .unwrap_or_default();
            Some((bidder, name, leader.amount))
        }
        Err(_) => None,
    };
    let (status, reason) = match &outcome {
        Ok(_) => ("sold", None),
        Err(why) => ("failed", Some(why.as_str())),
    };
    let mut record = json!({
        "tender": tender.as_str(),
        "lot": lot.as_str(),
        "form": loaded.public.form.as_str(),
        "status": status,
        "reason": reason,
        "currency": currency.code(),
        "start_price": money(loaded.public.start_price)?,
        "opened_at": crate::time::rfc3339(loaded.terms.opens_at),
        "ended_at": crate::time::rfc3339(ended_at),
        "closed_at": crate::time::rfc3339(now),
        "winner": winner.as_ref().map(|(b, name, _)| json!({
            "pseudonym": b.pseudonym,
            "bidder_id": b.organization_id,
            "bidder_name": name,
        })),
        "final_price": winner.as_ref().map(|(_, _, amount)| money(*amount)).transpose()?,
        "reserve_price": reserve.map(money).transpose()?,
        "bids": lines,
        "platform_key": signer.key_id(),
    });
    let signature = signer.sign(to_canonical_string(&record).as_bytes());
    record["signature"] = Value::String(signature);
    let record_text = to_canonical_string(&record);
    let confirmation = match &winner {
        Some((bidder, name, amount)) => {
            let mut c = json!({
                "document": "auction_confirmation",
                "title": "成交确认书",
                "tender": tender.as_str(),
                "tender_title": loaded.tender.title,
                "lot": lot.as_str(),
                "lot_title": loaded.lot_title,
                "seller_id": loaded.tender.tenderer_org_id,
                "buyer": {"bidder_id": bidder.organization_id, "bidder_name": name, "pseudonym": bidder.pseudonym},
                "price": money(*amount)?,
                "currency": currency.code(),
                "closed_at": crate::time::rfc3339(now),
                "record_sha256": crate::audit::digest_hex(&record_text),
                "platform_key": signer.key_id(),
            });
            let signature = signer.sign(to_canonical_string(&c).as_bytes());
            c["signature"] = Value::String(signature);
            Some(to_canonical_string(&c))
        }
        None => None,
    };
    auctions::Entity::update(auctions::ActiveModel {
        tender_id: Set(loaded.row.tender_id.clone()),
        lot_id: Set(loaded.row.lot_id.clone()),
        result: Set(Some(reason.unwrap_or("sold").to_owned())),
        reserve_fen: Set(reserve
            .map(|r| {
                Money::parse(&r.to_string(), currency)
                    .and_then(|m| m.minor_units())
                    .map_err(DomainError::internal)
            })
            .transpose()?),
        closed_at: Set(Some(now)),
        record: Set(Some(record_text)),
        confirmation: Set(confirmation),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    // The lot is decided: sold is awarded, failed fails; the tender follows its lots.
    crate::tender::store::queries::set_lot_status(
        &txn,
        tender.as_str(),
        lot.as_str(),
        if winner.is_some() {
            "awarded"
        } else {
            "failed"
        },
    )
    .await?;
    crate::evaluation::service::status::settle_tender_in(&txn, tender.as_str(), now).await?;
    let (applied, refunds) = crate::deposit::service::settle_auction_in(
        &txn,
        tender,
        lot,
        winner.as_ref().map(|(b, _, _)| b.registration_id.as_str()),
        interest_rate,
        now,
    )
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(tender.as_str()),
            &Actor::system(),
            "auction.close",
            format!("lot:{tender}/{lot}"),
        )
        .details(json!({
            "status": status,
            "reason": reason,
            "bids": bids.len(),
            "final_price": record["final_price"],
            "reserve_price": record["reserve_price"],
            "deposit_applied_fen": applied,
            "refunds": refunds,
        })),
        now,
    )
    .await?;
    let message = crate::notify::auction_closed(
        &loaded.tender.title,
        tender.as_str(),
        lot.as_str(),
        winner.as_ref().map(|(_, _, amount)| amount.to_string()),
    );
    let object = Some(format!("lot:{tender}/{lot}"));
    let mut told = crate::tender::store::queries::owner_organizations(&txn, &loaded.tender).await?;
    for bidder in auction_bidders::Entity::find()
        .filter(auction_bidders::Column::TenderId.eq(tender.as_str()))
        .filter(auction_bidders::Column::LotId.eq(lot.as_str()))
        .all(&txn)
        .await?
    {
        told.push(bidder.organization_id);
    }
    told.sort();
    told.dedup();
    for org in &told {
        crate::notify::service::notify_organization(
            &txn,
            org,
            "auction.closed",
            object.clone(),
            &message,
            true,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Some(record))
}

/// The signed record of a closed auction (anyone), or `NotOpened`-like refusal before the close.
pub async fn record(
    db: &DatabaseConnection,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Option<Value>> {
    let row = auctions::Entity::find_by_id((tender.as_str().to_owned(), lot.as_str().to_owned()))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    row.record
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(DomainError::internal)
}

/// The signed confirmation of the sale, for the buyer, the seller and supervisors.
pub async fn confirmation(
    db: &DatabaseConnection,
    principal: &crate::account::Principal,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Value> {
    let row = auctions::Entity::find_by_id((tender.as_str().to_owned(), lot.as_str().to_owned()))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let Some(text) = row.confirmation else {
        return Err(DomainError::NotFound);
    };
    let confirmation: Value = serde_json::from_str(&text).map_err(DomainError::internal)?;
    let tender_row = crate::tender::service::get(db, Some(principal), tender).await?;
    let buyer = confirmation["buyer"]["bidder_id"]
        .as_str()
        .unwrap_or_default();
    let allowed = principal.is_supervisor()
        || principal.is_operator
        || tender_row.is_owned_by(principal)
        || principal.is_member_of(buyer);
    if !allowed {
        return Err(DomainError::NotFound);
    }
    Ok(confirmation)
}
