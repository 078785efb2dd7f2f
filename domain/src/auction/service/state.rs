//! An auction's state as stored: loading it (locked for a decision, or not for a read), the
//! model's `State` from its row and back.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use tenderhall_model::auction::{AuctionStatus, Leader, State, Terms};

use super::super::store::auctions;
use crate::error::{DomainError, DomainResult};
use crate::money::{Currency, Money};
use crate::tender::auction::PublicTerms;
use crate::tender::store::{lots, tenders};

/// What every decision on one auction starts from: its terms, its tender and its row.
pub(crate) struct Loaded {
    pub terms: Terms,
    pub public: PublicTerms,
    pub currency: Currency,
    pub tender: tenders::Model,
    pub lot_title: String,
    pub row: auctions::Model,
}

/// Loads the auction of `lot`, its row locked for the caller's transaction when `lock` is set.
/// `NotFound` for a lot that is not auctioned, and for a draft's.
pub(crate) async fn load(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    lot_id: &str,
    lock: bool,
) -> DomainResult<Loaded> {
    let key = (tender_id.to_owned(), lot_id.to_owned());
    // The terms first, the row (locked) last: bids on one auction wait for each other only while
    // the row is held, so the lock is taken once everything else is read.
    let tender = tenders::Entity::find_by_id(tender_id.to_owned())
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let lot = lots::Entity::find_by_id(key.clone())
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut find = auctions::Entity::find_by_id(key);
    if lock {
        find = find.lock_exclusive();
    }
    let row = find.one(txn).await?.ok_or(DomainError::NotFound)?;
    let public: PublicTerms = lot
        .auction
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(DomainError::internal)?
        .ok_or(DomainError::NotFound)?;
    let currency: Currency = tender.currency.parse().map_err(DomainError::internal)?;
    Ok(Loaded {
        terms: public.model(tender.bid_deadline),
        public,
        currency,
        lot_title: lot.title,
        tender,
        row,
    })
}

pub(crate) fn fen(amount: Decimal, currency: Currency) -> DomainResult<i64> {
    Money::parse(&amount.to_string(), currency)
        .and_then(|m| m.minor_units())
        .map_err(DomainError::internal)
}

/// The model's state from the stored row.
pub(crate) fn state_of(row: &auctions::Model, currency: Currency) -> DomainResult<State> {
    let bad = |what: &str| {
        DomainError::internal(format!(
            "auction {}/{} has a bad {what}",
            row.tender_id, row.lot_id
        ))
    };
    let leader = match (
        &row.leader_pseudonym,
        row.leader_amount_fen,
        row.leader_seq,
        row.leader_at,
    ) {
        (Some(bidder), Some(amount), Some(seq), Some(at)) => Some(Leader {
            bidder: bidder.clone(),
            amount: Money::from_minor_units(amount, currency).amount(),
            seq,
            at,
        }),
        _ => None,
    };
    Ok(State {
        status: AuctionStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
        increment: row.increment.parse().map_err(|_| bad("increment"))?,
        leader,
        ends_at: row.ends_at,
        last_seq: row.last_seq,
        listing_bidders: serde_json::from_str(&row.listing_bidders)
            .map_err(|_| bad("listing bidders"))?,
    })
}

/// Writes `state` back to the auction's row.
pub(crate) async fn save_state(
    txn: &impl ConnectionTrait,
    row: &auctions::Model,
    state: &State,
    currency: Currency,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let leader = state.leader.as_ref();
    auctions::Entity::update(auctions::ActiveModel {
        tender_id: Set(row.tender_id.clone()),
        lot_id: Set(row.lot_id.clone()),
        status: Set(state.status.as_str().to_owned()),
        increment: Set(state.increment.to_string()),
        leader_pseudonym: Set(leader.map(|l| l.bidder.clone())),
        leader_amount_fen: Set(leader.map(|l| fen(l.amount, currency)).transpose()?),
        leader_seq: Set(leader.map(|l| l.seq)),
        leader_at: Set(leader.map(|l| l.at)),
        // An ended auction keeps the instant it ended, for its record.
        ends_at: Set(state.ends_at.or(row.ends_at)),
        last_seq: Set(state.last_seq),
        listing_bidders: Set(
            serde_json::to_string(&state.listing_bidders).map_err(DomainError::internal)?
        ),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(())
}
