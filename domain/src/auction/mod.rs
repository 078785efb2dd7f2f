//! Live auctions (竞价, docs/auctions.md): the auction of each lot of a `listing`, `auction` or
//! `reverse_auction` tender, from its publication to its signed record.
//!
//! The rules are `tenderhall_model::auction` (pure, decided from the loaded state and the server's
//! clock). Here they run under the auction row's lock: each bid is one transaction that locks the
//! row (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serializes every writer), decides
//! against the state as the clock has it, and commits the bid, the new state and its audit entry
//! before the bidder hears of it. The close is a chronograph job ([`close::CLOSE_JOB`]) that runs
//! at the countdown's end, re-arms itself while bids keep moving the end, and does its work once.
//!
//! Bidders are pseudonyms (竞买号) in every answer until the result: the model decides on
//! pseudonyms, and only the bidders' table maps them to organizations.

pub mod service;
pub mod store;

pub use self::service::close::{CLOSE_JOB, close};
pub use self::service::live::{LIVE_CHANNEL, Pulse, bid_event, bids_after, pulse};
pub use self::service::{
    AcceptedBid, AuctionView, BidLine, awaiting_result, bid, change_increment, schedule, view,
};
