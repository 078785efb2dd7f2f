//! Scheduling an auction at publication, reading it, bidding, and the seller's increment.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use tenderhall_model::auction::{self as rules, AuctionRefusal, AuctionStatus, State};

pub mod close;
pub mod live;
mod state;

use self::close::close_job;
use self::live::{LIVE_CHANNEL, bid_event};
use self::state::{fen, load, save_state, state_of};
use super::store::{auction_bidders, auction_bids, auctions};
use crate::account::{OrganizationKind, Principal};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, Text};
use crate::id::{LotId, TenderId};
use crate::jobs::service as jobs;
use crate::money::Money;
use crate::store::begin_write;
use crate::tender::TenderStatus;
use crate::tender::auction::PublicTerms;
use crate::tender::store::{lots, tenders};

/// The most bids one answer lists (the newest); the signed record lists them all.
const BIDS_SHOWN: u64 = 200;

/// At publication, in its transaction: an auction row for each auction lot, and the chronograph's
/// first look at it when its clock first ends something (the listing's end, the first countdown).
pub async fn schedule(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    opens_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let rows = lots::Entity::find()
        .filter(lots::Column::TenderId.eq(tender_id))
        .filter(lots::Column::Auction.is_not_null())
        .all(txn)
        .await?;
    for lot in rows {
        let Some(public) = lot
            .auction
            .as_deref()
            .map(serde_json::from_str::<PublicTerms>)
            .transpose()
            .map_err(DomainError::internal)?
        else {
            continue;
        };
        auctions::Entity::insert(auctions::ActiveModel {
            tender_id: Set(tender_id.to_owned()),
            lot_id: Set(lot.lot_id.clone()),
            status: Set(AuctionStatus::Scheduled.as_str().to_owned()),
            increment: Set(public.increment.to_string()),
            leader_pseudonym: Set(None),
            leader_amount_fen: Set(None),
            leader_seq: Set(None),
            leader_at: Set(None),
            ends_at: Set(None),
            last_seq: Set(0),
            listing_bidders: Set("[]".to_owned()),
            result: Set(None),
            reserve_fen: Set(None),
            closed_at: Set(None),
            record: Set(None),
            confirmation: Set(None),
            updated_at: Set(now),
        })
        .exec_without_returning(txn)
        .await?;
        let mut state = State::new(public.increment);
        rules::advance(&public.model(opens_at), &mut state, opens_at);
        let first = state.ends_at.unwrap_or(opens_at);
        jobs::enqueue(txn, close_job(tender_id, &lot.lot_id, first), now).await?;
    }
    Ok(())
}

/// One accepted bid as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidLine {
    pub seq: i64,
    pub pseudonym: String,
    pub amount: Money,
    pub accepted_at: DateTime<Utc>,
}

/// An auction as anyone sees it, the clock applied up to now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionView {
    pub tender_id: String,
    pub lot_id: String,
    pub terms: PublicTerms,
    pub status: AuctionStatus,
    pub current_price: Money,
    /// The best amount a bid may offer now (at least it; reverse: at most it).
    pub next_valid: Option<Money>,
    pub increment: Decimal,
    /// The leader's pseudonym.
    pub leader: Option<String>,
    pub ends_at: Option<DateTime<Utc>>,
    pub last_seq: i64,
    /// The newest bids, oldest first.
    pub bids: Vec<BidLine>,
    /// The caller's own pseudonym, once it has bid.
    pub you: Option<String>,
    /// `sold`, `no_bids`, `reserve_not_met` or `cancelled` once closed.
    pub result: Option<String>,
    pub server_time: DateTime<Utc>,
}

/// The auction of `lot` (anyone, once the tender is published).
pub async fn view(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    tender: &TenderId,
    lot: &LotId,
    now: DateTime<Utc>,
) -> DomainResult<AuctionView> {
    let loaded = load(db, tender.as_str(), lot.as_str(), false).await?;
    let mut state = state_of(&loaded.row, loaded.currency)?;
    if loaded.row.result.is_none() {
        rules::advance(&loaded.terms, &mut state, now);
    }
    let mut bids = auction_bids::Entity::find()
        .filter(auction_bids::Column::TenderId.eq(tender.as_str()))
        .filter(auction_bids::Column::LotId.eq(lot.as_str()))
        .order_by_desc(auction_bids::Column::Seq)
        .limit(BIDS_SHOWN)
        .all(db)
        .await?;
    bids.reverse();
    let you = match principal.and_then(|p| p.membership.as_ref()) {
        Some(m) => auction_bidders::Entity::find_by_id((
            tender.as_str().to_owned(),
            lot.as_str().to_owned(),
            m.organization_id.to_string(),
        ))
        .one(db)
        .await?
        .map(|b| b.pseudonym),
        None => None,
    };
    let money = |amount: Decimal| Money::parse(&amount.to_string(), loaded.currency);
    let current = rules::current_price(&loaded.terms, &state, now);
    Ok(AuctionView {
        tender_id: tender.to_string(),
        lot_id: lot.to_string(),
        status: state.status,
        current_price: money(current).map_err(DomainError::internal)?,
        next_valid: rules::next_valid(&loaded.terms, &state, now)
            .map(money)
            .transpose()
            .map_err(DomainError::internal)?,
        increment: state.increment,
        leader: state.leader.map(|l| l.bidder),
        ends_at: state.ends_at,
        last_seq: state.last_seq,
        bids: bids
            .into_iter()
            .map(|b| BidLine {
                seq: b.seq,
                pseudonym: b.pseudonym,
                amount: Money::from_minor_units(b.amount_fen, loaded.currency),
                accepted_at: b.accepted_at,
            })
            .collect(),
        you,
        result: loaded.row.result,
        terms: loaded.public,
        server_time: now,
    })
}

/// What the bidder hears back: its bid, durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedBid {
    pub seq: i64,
    /// The auction's status after the bid (`ended` when it took a dutch price).
    pub status: AuctionStatus,
    pub amount: Money,
    pub accepted_at: DateTime<Utc>,
    pub pseudonym: String,
    /// When the countdown now ends (none for a taken dutch price, which ends the auction).
    pub ends_at: Option<DateTime<Utc>>,
}

fn refusal(refused: AuctionRefusal, form_ascending: bool) -> DomainError {
    let message = match refused {
        AuctionRefusal::NotStarted => Text::new(
            "The auction has not opened yet: bidding opens at the tender's bid deadline.",
            "竞价尚未开始：竞价自投标截止时间起开始。",
        ),
        AuctionRefusal::Closed => Text::new(
            "The auction's clock has ended it: no more bids are taken.",
            "竞价已按时钟结束，不再接受出价。",
        ),
        AuctionRefusal::BelowIncrement if form_ascending => Text::new(
            "The bid does not beat the current price by the increment.",
            "出价未按加价幅度高于当前价。",
        ),
        AuctionRefusal::BelowIncrement => Text::new(
            "The bid is not below the current price by the step.",
            "出价未按降价幅度低于当前价。",
        ),
        AuctionRefusal::AlreadyLeading => Text::new(
            "You already lead: a bidder does not bid against itself.",
            "您已是当前最高（最优）出价人，不能对自己加价。",
        ),
        AuctionRefusal::NotEligible => Text::new(
            "Only a bidder registered for this lot with its deposit paid by the bid deadline may bid (in a timed round, only those who bid in the listing).",
            "只有在投标截止前报名本标段并足额交纳保证金的竞买人才能出价（限时竞价阶段仅限挂牌期间出过价的竞买人）。",
        ),
        AuctionRefusal::BadAmount => {
            return crate::tender::input::invalid(
                "amount",
                "The amount is a positive amount in yuan with at most two decimals.",
                "出价须为大于零、最多两位小数的金额（元）。",
            );
        }
    };
    // Each refusal's status comes with its code (403 `not_eligible`, 409 for the others).
    DomainError::Refused {
        code: refused.code(),
        message,
    }
}

/// Whether the organization may bid on the lot: an active registration whose deposit was paid (or
/// guaranteed) by the bid deadline. Answers the registration.
async fn eligible_registration(
    txn: &impl ConnectionTrait,
    tender: &tenders::Model,
    lot_id: &str,
    organization_id: &str,
) -> DomainResult<Option<String>> {
    let Some(registration) = crate::deposit::store::queries::active_registration(
        txn,
        &tender.id,
        lot_id,
        organization_id,
    )
    .await?
    else {
        return Ok(None);
    };
    let (status, _) =
        crate::deposit::service::status_at(txn, &registration, tender.bid_deadline).await?;
    Ok(matches!(
        status,
        tenderhall_model::deposit::DepositStatus::Paid
            | tenderhall_model::deposit::DepositStatus::Guarantee
    )
    .then_some(registration.id))
}

/// A bid on the lot's auction, decided under the auction's lock against its state as the clock
/// has it, and committed with its audit entry before it is answered.
pub async fn bid(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    amount: &str,
    ip: Option<String>,
    now_of: impl FnOnce() -> DateTime<Utc>,
) -> DomainResult<AcceptedBid> {
    let membership = principal.require_kind(&[OrganizationKind::Bidder])?;
    let organization_id = membership.organization_id.to_string();
    let amount: Decimal = amount.trim().parse().map_err(|_| {
        crate::tender::input::invalid(
            "amount",
            "The amount is a decimal string in yuan, such as \"1250000.00\".",
            "出价须为以元计的十进制金额，如 \"1250000.00\"。",
        )
    })?;
    let txn = begin_write(db).await?;
    let bidder_key = (
        tender.as_str().to_owned(),
        lot.as_str().to_owned(),
        organization_id.clone(),
    );
    // A bidder's pseudonym, once given, never changes: read before the lock, which stays short.
    let mut known = auction_bidders::Entity::find_by_id(bidder_key.clone())
        .one(&txn)
        .await?;
    let loaded = load(&txn, tender.as_str(), lot.as_str(), true).await?;
    // The clock is read once the lock is held: decisions are ordered as they commit.
    let now = now_of();
    let ascending = loaded.public.form.ascending();
    let status = TenderStatus::parse(&loaded.tender.status);
    if status == Some(TenderStatus::Draft) {
        return Err(DomainError::NotFound);
    }
    if status == Some(TenderStatus::Cancelled) || loaded.row.result.is_some() {
        return Err(refusal(AuctionRefusal::Closed, ascending));
    }
    let mut state = state_of(&loaded.row, loaded.currency)?;
    if known.is_none() {
        // A first bid: another request of the same bidder may have given it one meanwhile.
        known = auction_bidders::Entity::find_by_id(bidder_key)
            .one(&txn)
            .await?;
    }
    let (pseudonym, registration, eligible) = match &known {
        Some(b) => (b.pseudonym.clone(), b.registration_id.clone(), true),
        None => {
            let registration =
                eligible_registration(&txn, &loaded.tender, lot.as_str(), &organization_id).await?;
            // The next number, under the auction's lock: numbered in the order bidders first bid.
            let taken = auction_bidders::Entity::find()
                .filter(auction_bidders::Column::TenderId.eq(tender.as_str()))
                .filter(auction_bidders::Column::LotId.eq(lot.as_str()))
                .count(&txn)
                .await?;
            let eligible = registration.is_some();
            (
                format!("A{:03}", taken + 1),
                registration.unwrap_or_default(),
                eligible,
            )
        }
    };
    let accepted =
        match rules::decide_bid(&loaded.terms, &mut state, &pseudonym, eligible, amount, now) {
            Ok(accepted) => accepted,
            Err(refused) => {
                txn.rollback().await?;
                return Err(refusal(refused, ascending));
            }
        };
    if known.is_none() {
        auction_bidders::Entity::insert(auction_bidders::ActiveModel {
            tender_id: Set(tender.to_string()),
            lot_id: Set(lot.to_string()),
            organization_id: Set(organization_id.clone()),
            pseudonym: Set(pseudonym.clone()),
            registration_id: Set(registration),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    let amount_fen = fen(accepted.amount, loaded.currency)?;
    auction_bids::Entity::insert(auction_bids::ActiveModel {
        tender_id: Set(tender.to_string()),
        lot_id: Set(lot.to_string()),
        seq: Set(accepted.seq),
        pseudonym: Set(pseudonym.clone()),
        organization_id: Set(organization_id),
        account_id: Set(principal.account_id.to_string()),
        amount_fen: Set(amount_fen),
        accepted_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    save_state(&txn, &loaded.row, &state, loaded.currency, now).await?;
    if accepted.ends_auction {
        // A taken dutch price ends the auction now: the close need not wait for the clock.
        jobs::enqueue(&txn, close_job(tender.as_str(), lot.as_str(), now), now).await?;
    }
    // Who bid stays on the sealed chain until the result (docs/auctions.md "Pseudonyms").
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender_sealed(tender.as_str()),
            &Actor::account(principal.account_id.as_str(), ip),
            "auction.bid",
            format!("lot:{tender}/{lot}"),
        )
        .details(json!({"seq": accepted.seq, "pseudonym": pseudonym, "amount_fen": amount_fen})),
        now,
    )
    .await?;
    let answer = AcceptedBid {
        seq: accepted.seq,
        status: state.status,
        amount: Money::from_minor_units(amount_fen, loaded.currency),
        accepted_at: now,
        pseudonym,
        ends_at: state.ends_at,
    };
    // Every `serve` process hears of the bid when it commits (PostgreSQL delivers notifications at
    // commit, in commit order); SQLite runs one process, which publishes it itself.
    if crate::store::is_postgres(&txn) {
        let event = bid_event(tender, lot, &answer);
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [LIVE_CHANNEL.into(), event.to_string().into()],
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(answer)
}

/// The seller changes the step: before the auction opens, or during its listing (audited; the next
/// bid uses it).
pub async fn change_increment(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    increment: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<AuctionView> {
    let txn = begin_write(db).await?;
    let owned = crate::tender::service::load_owned(&txn, principal, tender).await?;
    let loaded = load(&txn, tender.as_str(), lot.as_str(), true).await?;
    let bad_step = || {
        crate::tender::input::invalid(
            "increment",
            "The increment is a positive amount with at most two decimals (reverse: a percentage under 100).",
            "加价幅度须为大于零、最多两位小数的金额（反向竞价为小于 100 的百分数）。",
        )
    };
    let step: Decimal = increment.trim().parse().map_err(|_| bad_step())?;
    if owned.status == TenderStatus::Cancelled || loaded.row.result.is_some() {
        return Err(refusal(AuctionRefusal::Closed, true));
    }
    let mut state = state_of(&loaded.row, loaded.currency)?;
    let before = state.increment;
    match rules::decide_increment(&loaded.terms, &mut state, step, now) {
        Ok(()) => {}
        Err(AuctionRefusal::BadAmount) => return Err(bad_step()),
        Err(refused) => {
            return Err(DomainError::Refused {
                code: refused.code(),
                message: Text::new(
                    "The increment changes only before the auction opens or during its listing.",
                    "加价幅度只能在竞价开始前或挂牌期间调整。",
                ),
            });
        }
    }
    save_state(&txn, &loaded.row, &state, loaded.currency, now).await?;
    crate::tender::service::record_mandate_use(
        &txn,
        principal,
        &owned,
        "auction.increment",
        ip.clone(),
        now,
    )
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(tender.as_str()),
            &Actor::account(principal.account_id.as_str(), ip),
            "auction.increment",
            format!("lot:{tender}/{lot}"),
        )
        .details(json!({"from": before.to_string(), "to": step.to_string()})),
        now,
    )
    .await?;
    txn.commit().await?;
    view(db, Some(principal), tender, lot, now).await
}

/// Whether an auction of the tender is still without its result: until then who bid (the sealed
/// chain, where each bid names its account) stays withheld, since it would map pseudonyms to
/// bidders (docs/auctions.md "Pseudonyms").
pub async fn awaiting_result(db: &impl ConnectionTrait, tender: &TenderId) -> DomainResult<bool> {
    Ok(auctions::Entity::find()
        .filter(auctions::Column::TenderId.eq(tender.as_str()))
        .filter(auctions::Column::Result.is_null())
        .count(db)
        .await?
        > 0)
}
