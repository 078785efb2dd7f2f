//! What the live view reads: an auction's state in brief, the bids after a number, and a bid as it
//! travels to watchers and between processes (docs/auctions.md "Live").

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tenderhall_model::auction::{self as rules, AuctionStatus};

use super::super::store::auction_bids;
use super::state::{load, state_of};
use super::{AcceptedBid, BidLine};
use crate::error::{DomainError, DomainResult};
use crate::id::{LotId, TenderId};
use crate::money::{Currency, Money};
use crate::tender::store::tenders;

/// An auction's state in brief, the clock applied: what a live view checks a few times a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulse {
    pub status: AuctionStatus,
    pub result: Option<String>,
    pub ends_at: Option<DateTime<Utc>>,
    pub last_seq: i64,
    pub current_price: Money,
    pub next_valid: Option<Money>,
}

/// The auction's [`Pulse`] at `now` (three reads by key).
pub async fn pulse(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
    now: DateTime<Utc>,
) -> DomainResult<Pulse> {
    let loaded = load(db, tender.as_str(), lot.as_str(), false).await?;
    let mut state = state_of(&loaded.row, loaded.currency)?;
    if loaded.row.result.is_none() {
        rules::advance(&loaded.terms, &mut state, now);
    }
    let money = |amount: Decimal| {
        Money::parse(&amount.to_string(), loaded.currency).map_err(DomainError::internal)
    };
    Ok(Pulse {
        current_price: money(rules::current_price(&loaded.terms, &state, now))?,
        next_valid: rules::next_valid(&loaded.terms, &state, now)
            .map(money)
            .transpose()?,
        status: state.status,
        result: loaded.row.result,
        ends_at: state.ends_at,
        last_seq: state.last_seq,
    })
}

/// The accepted bids after `after`, in order, at most `limit`.
pub async fn bids_after(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
    after: i64,
    limit: u64,
) -> DomainResult<Vec<BidLine>> {
    let currency: Currency = tenders::Entity::find_by_id(tender.to_string())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?
        .currency
        .parse()
        .map_err(DomainError::internal)?;
    Ok(auction_bids::Entity::find()
        .filter(auction_bids::Column::TenderId.eq(tender.as_str()))
        .filter(auction_bids::Column::LotId.eq(lot.as_str()))
        .filter(auction_bids::Column::Seq.gt(after))
        .order_by_asc(auction_bids::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|b| BidLine {
            seq: b.seq,
            pseudonym: b.pseudonym,
            amount: Money::from_minor_units(b.amount_fen, currency),
            accepted_at: b.accepted_at,
        })
        .collect())
}

/// The PostgreSQL channel on which each committed bid is announced to every `serve` process
/// (docs/auctions.md "Live").
pub const LIVE_CHANNEL: &str = "tenderhall_auction";

/// A bid as the live view sends it, and as it travels between processes.
pub fn bid_event(tender: &TenderId, lot: &LotId, bid: &AcceptedBid) -> serde_json::Value {
    json!({
        "type": "bid",
        "tender": tender.as_str(),
        "lot": lot.as_str(),
        "seq": bid.seq,
        "pseudonym": bid.pseudonym,
        "amount": bid.amount.amount().to_string(),
        "accepted_at": crate::time::rfc3339(bid.accepted_at),
        "ends_at": bid.ends_at.map(crate::time::rfc3339),
        "status": bid.status.as_str(),
    })
}
