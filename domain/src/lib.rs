//! Tenderhall's model and rules.
//!
//! The pure parts (money, ids, the password rule, audit hashing, key wrapping, canonical JSON)
//! know nothing of databases or HTTP and test in microseconds. Each area's `store.rs` and
//! `service.rs` hold persistence and use cases: a service call is one database transaction that
//! also appends its audit entry.

pub mod account;
pub mod auction;
pub mod audit;
pub mod bid;
pub mod canonical;
pub mod deposit;
pub mod draw;
pub mod error;
pub mod evaluation;
pub mod expert;
pub mod id;
pub mod jobs;
pub mod keys;
pub mod mandate;
pub mod money;
pub mod notify;
pub mod ports;
pub mod store;
pub mod tender;
pub mod time;

pub use error::{DomainError, DomainResult};
