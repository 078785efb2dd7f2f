//! Live auctions (竞价) of land-use and mining rights, state-owned property and reverse purchases,
//! decided from the loaded state and the server's `now` (docs/spec/rules.md "Auctions", docs/auctions.md).
//!
//! One auction's life: `scheduled` until the tender's bid deadline, then bidding in the form the
//! seller chose, then `ended` at the instant its clock says (the chronograph persists it, but a
//! bid after that instant is refused whether or not it has run), then `sold` or `failed` once the
//! sealed reserve is revealed. Time-driven changes happen at the instant the clock fixes, not when
//! someone notices: [`advance`] replays them up to `now`, and every decision runs on its answer.
//!
//! The forms:
//! - `listing` (挂牌 then 限时竞价): during the listing each bid beats the current price by the
//!   increment; at the listing's end a sole bidder is the leader, several go on to a timed round
//!   from the highest bid plus one increment, only among those who bid in the listing, each bid
//!   restarting the countdown;
//! - `english`: ascending, each bid restarting the countdown;
//! - `reverse`: descending from the start price (the buyer's ceiling), each bid at least the
//!   increment, a percentage, below the current one, each bid restarting the countdown;
//! - `dutch`: the price falls one increment per countdown interval from the start price until a
//!   bidder takes it (the first taker wins at once) or it would reach zero.
//!
//! Ties go to the earlier bid: decisions are serialized per auction, and an equal amount after an
//! accepted one no longer beats it.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::ErrorCode;
use crate::named_states;

named_states!(
    /// How the price moves (docs/spec/api-contract.md "Auctions": `form`).
    Form {
        /// 挂牌 then 限时竞价 (land and mining rights, property listings).
        Listing => "listing",
        /// Ascending with a countdown that each bid restarts.
        English => "english",
        /// The price falls a step per interval until someone takes it.
        Dutch => "dutch",
        /// Descending (反向竞价, purchases): each bid at least a percentage below the last.
        Reverse => "reverse",
    }
);

named_states!(
    /// Where an auction stands.
    AuctionStatus {
        /// Before the tender's bid deadline: no bids yet.
        Scheduled => "scheduled",
        /// The listing (挂牌) is open.
        Listing => "listing",
        /// The timed round (限时竞价) after a listing with several bidders.
        TimedRound => "timed_round",
        /// Live bidding of the english, dutch and reverse forms.
        Bidding => "bidding",
        /// Bidding is over; the reserve is about to be revealed.
        Ended => "ended",
        /// The reserve is met: the leader bought (or, reverse, sold) at its price.
        Sold => "sold",
        /// Nobody bid, or the best bid did not meet the reserve.
        Failed => "failed",
    }
);

impl AuctionStatus {
    /// Whether bids are taken in this status (subject to the clock: see [`advance`]).
    pub const fn taking_bids(self) -> bool {
        matches!(self, Self::Listing | Self::TimedRound | Self::Bidding)
    }

    /// Whether the auction is over (`ended`, `sold` or `failed`).
    pub const fn over(self) -> bool {
        matches!(self, Self::Ended | Self::Sold | Self::Failed)
    }
}

impl Form {
    /// Whether a higher price is a better bid.
    pub const fn ascending(self) -> bool {
        !matches!(self, Self::Reverse)
    }
}

/// What the seller fixed at publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub form: Form,
    pub start_price: Decimal,
    /// When bidding (or the listing) opens: the tender's bid deadline.
    pub opens_at: DateTime<Utc>,
    /// The countdown each bid restarts; the dutch form's interval between steps.
    pub countdown: Duration,
    /// When the listing closes (`listing` only).
    pub listing_end: Option<DateTime<Utc>>,
}

/// The leading bid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    pub bidder: String,
    pub amount: Decimal,
    pub seq: i64,
    pub at: DateTime<Utc>,
}

/// An auction's state: what the store keeps in the auction's row and changes under its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub status: AuctionStatus,
    /// The step between bids (an amount; for `reverse`, a percentage of the current price). The
    /// seller may change it during a listing (audited).
    pub increment: Decimal,
    pub leader: Option<Leader>,
    /// When the current status ends by the clock (the listing's end, the countdown's, the dutch
    /// price's last step), if it does.
    pub ends_at: Option<DateTime<Utc>>,
    /// The last accepted bid's number (bids are numbered 1, 2, ... in acceptance order).
    pub last_seq: i64,
    /// Who bid during the listing: those who may bid in its timed round (sorted).
    pub listing_bidders: Vec<String>,
}

impl State {
    /// A published auction before it opens.
    pub fn new(increment: Decimal) -> Self {
        Self {
            status: AuctionStatus::Scheduled,
            increment,
            leader: None,
            ends_at: None,
            last_seq: 0,
            listing_bidders: Vec::new(),
        }
    }
}

/// A change the clock made, at the instant it fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub status: AuctionStatus,
    pub at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
}

/// Applies the clock's changes up to `now` (inclusive: a status whose end is `now` has ended) and
/// answers them in order, each at its own instant.
pub fn advance(terms: &Terms, state: &mut State, now: DateTime<Utc>) -> Vec<Change> {
    let mut changes = Vec::new();
    loop {
        let (status, at, ends_at) = match state.status {
            AuctionStatus::Scheduled if now >= terms.opens_at => {
                let at = terms.opens_at;
                match terms.form {
                    Form::Listing => (
                        AuctionStatus::Listing,
                        at,
                        Some(terms.listing_end.unwrap_or(at)),
                    ),
                    Form::English | Form::Reverse => {
                        (AuctionStatus::Bidding, at, Some(after_countdown(terms, at)))
                    }
                    Form::Dutch => (
                        AuctionStatus::Bidding,
                        at,
                        Some(dutch_end(terms, state.increment)),
                    ),
                }
            }
            AuctionStatus::Listing => match state.ends_at {
                Some(end) if now >= end => {
                    if state.listing_bidders.len() >= 2 {
                        (
                            AuctionStatus::TimedRound,
                            end,
                            Some(after_countdown(terms, end)),
                        )
                    } else {
                        (AuctionStatus::Ended, end, None)
                    }
                }
                _ => break,
            },
            AuctionStatus::TimedRound | AuctionStatus::Bidding => match state.ends_at {
                Some(end) if now >= end => (AuctionStatus::Ended, end, None),
                _ => break,
            },
            _ => break,
        };
        state.status = status;
        state.ends_at = ends_at;
        changes.push(Change {
            status,
            at,
            ends_at,
        });
    }
    changes
}

/// The dutch price at `now`: the start price less one increment per whole interval since the
/// opening, never zero or below (then the auction has ended).
pub fn dutch_price(terms: &Terms, increment: Decimal, now: DateTime<Utc>) -> Decimal {
    let steps = dutch_steps(terms, now).min(dutch_last_step(terms, increment));
    terms.start_price - increment * Decimal::from(steps)
}

fn dutch_steps(terms: &Terms, now: DateTime<Utc>) -> i64 {
    let interval = terms.countdown.num_milliseconds().max(1);
    ((now - terms.opens_at).num_milliseconds() / interval).max(0)
}

/// The last step whose price is still above zero.
fn dutch_last_step(terms: &Terms, increment: Decimal) -> i64 {
    if increment <= Decimal::ZERO {
        return 0;
    }
    let steps = ((terms.start_price / increment).ceil() - Decimal::ONE).max(Decimal::ZERO);
    steps.to_i64().unwrap_or(i64::MAX / 2)
}

fn dutch_end(terms: &Terms, increment: Decimal) -> DateTime<Utc> {
    let steps = dutch_last_step(terms, increment).saturating_add(1);
    let interval = terms.countdown.num_milliseconds().max(1);
    later(terms.opens_at, steps.saturating_mul(interval))
}

/// `at` plus `ms` milliseconds, or the end of time: a dutch clock of a huge price in tiny steps
/// ends too far away to name, and must not overflow.
fn later(at: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    Duration::try_milliseconds(ms)
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `at` plus the countdown, saturating like [`later`].
fn after_countdown(terms: &Terms, at: DateTime<Utc>) -> DateTime<Utc> {
    later(at, terms.countdown.num_milliseconds())
}

/// The best amount a bid may offer now: at least this (ascending, dutch) or at most this
/// (reverse). `None` when no bid is taken.
pub fn next_valid(terms: &Terms, state: &State, now: DateTime<Utc>) -> Option<Decimal> {
    if !state.status.taking_bids() {
        return None;
    }
    Some(match (terms.form, &state.leader) {
        (Form::Dutch, _) => dutch_price(terms, state.increment, now),
        (Form::Reverse, None) => terms.start_price,
        (Form::Reverse, Some(l)) => {
            let cut = l.amount * (Decimal::ONE_HUNDRED - state.increment) / Decimal::ONE_HUNDRED;
            cut.round_dp_with_strategy(2, RoundingStrategy::ToZero)
        }
        (_, None) => terms.start_price,
        (_, Some(l)) => l.amount + state.increment,
    })
}

/// The price shown now: the leader's, or the dutch clock's, or the start price.
pub fn current_price(terms: &Terms, state: &State, now: DateTime<Utc>) -> Decimal {
    match (&state.leader, terms.form) {
        (Some(l), _) => l.amount,
        (None, Form::Dutch) if state.status == AuctionStatus::Bidding => {
            dutch_price(terms, state.increment, now)
        }
        (None, _) => terms.start_price,
    }
}

/// Why a bid is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuctionRefusal {
    /// Before the auction opens: 409 `not_started`.
    NotStarted,
    /// After it ended: 409 `auction_closed`.
    Closed,
    /// The amount does not beat the current price by the increment (or, dutch, is under the
    /// clock's price): 409 `below_increment`.
    BelowIncrement,
    /// The leader bidding against itself: 409 `already_leading`.
    AlreadyLeading,
    /// No registration with the deposit paid, or a timed round among others: 403 `not_eligible`.
    NotEligible,
    /// Not a positive amount in fen: 422 `invalid`.
    BadAmount,
}

impl AuctionRefusal {
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::NotStarted => ErrorCode::NotStarted,
            Self::Closed => ErrorCode::AuctionClosed,
            Self::BelowIncrement => ErrorCode::BelowIncrement,
            Self::AlreadyLeading => ErrorCode::AlreadyLeading,
            Self::NotEligible => ErrorCode::NotEligible,
            Self::BadAmount => ErrorCode::Invalid,
        }
    }
}

/// An accepted bid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub seq: i64,
    pub amount: Decimal,
    pub at: DateTime<Utc>,
    /// The dutch form ends at the first taker.
    pub ends_auction: bool,
}

/// Decides a bid against the state as the clock has it at `now` and applies it. It advances the
/// clock first, so a caller cannot accept a late bid; a refused bid changes nothing but that (the
/// clock's own changes, which the chronograph records anyway). `eligible`: the bidder has a
/// registration with its deposit paid.
pub fn decide_bid(
    terms: &Terms,
    state: &mut State,
    bidder: &str,
    eligible: bool,
    amount: Decimal,
    now: DateTime<Utc>,
) -> Result<Accepted, AuctionRefusal> {
    advance(terms, state, now);
    match state.status {
        AuctionStatus::Scheduled => return Err(AuctionRefusal::NotStarted),
        s if s.over() => return Err(AuctionRefusal::Closed),
        _ => {}
    }
    if !eligible {
        return Err(AuctionRefusal::NotEligible);
    }
    if state.status == AuctionStatus::TimedRound
        && state
            .listing_bidders
            .binary_search_by(|b| b.as_str().cmp(bidder))
            .is_err()
    {
        return Err(AuctionRefusal::NotEligible);
    }
    if amount <= Decimal::ZERO || amount.normalize().scale() > 2 {
        return Err(AuctionRefusal::BadAmount);
    }
    if state.leader.as_ref().is_some_and(|l| l.bidder == bidder) {
        return Err(AuctionRefusal::AlreadyLeading);
    }
    let Some(limit) = next_valid(terms, state, now) else {
        return Err(AuctionRefusal::Closed);
    };
    let beats = if terms.form.ascending() {
        amount >= limit
    } else {
        amount <= limit
    };
    if !beats {
        return Err(AuctionRefusal::BelowIncrement);
    }
    let seq = state.last_seq + 1;
    state.last_seq = seq;
    state.leader = Some(Leader {
        bidder: bidder.to_owned(),
        amount,
        seq,
        at: now,
    });
    let ends_auction = terms.form == Form::Dutch;
    match state.status {
        AuctionStatus::Listing => {
            if let Err(at) = state
                .listing_bidders
                .binary_search_by(|b| b.as_str().cmp(bidder))
            {
                state.listing_bidders.insert(at, bidder.to_owned());
            }
        }
        _ if ends_auction => {
            state.status = AuctionStatus::Ended;
            state.ends_at = None;
        }
        _ => state.ends_at = Some(after_countdown(terms, now)),
    }
    Ok(Accepted {
        seq,
        amount,
        at: now,
        ends_auction,
    })
}

/// Whether the seller may change the increment now: before the auction opens, or during its
/// listing (the timed round and live bidding keep the step the bidders started with). A reverse
/// step is a percentage under 100; every step is positive.
pub fn decide_increment(
    terms: &Terms,
    state: &mut State,
    increment: Decimal,
    now: DateTime<Utc>,
) -> Result<(), AuctionRefusal> {
    advance(terms, state, now);
    if state.status.over() {
        return Err(AuctionRefusal::Closed);
    }
    let changeable = state.status == AuctionStatus::Scheduled
        || (state.status == AuctionStatus::Listing && terms.form == Form::Listing);
    if !changeable {
        return Err(AuctionRefusal::Closed);
    }
    if !valid_increment(terms.form, increment) {
        return Err(AuctionRefusal::BadAmount);
    }
    state.increment = increment;
    Ok(())
}

/// A positive step in fen, and for `reverse` a percentage under 100.
pub fn valid_increment(form: Form, increment: Decimal) -> bool {
    increment > Decimal::ZERO
        && increment.normalize().scale() <= 2
        && (form != Form::Reverse || increment < Decimal::ONE_HUNDRED)
}

/// Why an auction failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    NoBids,
    ReserveNotMet,
}

impl FailReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NoBids => "no_bids",
            Self::ReserveNotMet => "reserve_not_met",
        }
    }
}

/// How an ended auction comes out once its reserve (if any) is revealed: the leader wins if its
/// price is at or beyond the reserve.
pub fn outcome(form: Form, state: &State, reserve: Option<Decimal>) -> Result<&Leader, FailReason> {
    let leader = state.leader.as_ref().ok_or(FailReason::NoBids)?;
    let meets = match reserve {
        None => true,
        Some(r) if form.ascending() => leader.amount >= r,
        Some(r) => leader.amount <= r,
    };
    if meets {
        Ok(leader)
    } else {
        Err(FailReason::ReserveNotMet)
    }
}

#[cfg(test)]
mod tests;
