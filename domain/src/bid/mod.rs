//! Sealed bids (SEALED_BIDS.md): the envelope format, its reader and the HPKE key wrap.
//! Submission, receipts and the opening build on them.

pub mod envelope;
pub mod hpke;
pub mod price;
mod reader;
pub mod service;
pub mod store;

pub use self::service::{keys, opening, submission};
