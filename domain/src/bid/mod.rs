//! Sealed bids (docs/spec/envelope.md): the envelope format, its reader and the HPKE key wrap.
//! Submission, receipts and the opening build on them.

pub mod price;
pub mod service;
pub mod store;

pub use self::service::{keys, opening, submission};
/// The envelope lives in its own crate (`domain/envelope`), small enough to fuzz instrumented.
pub use tenderhall_envelope::{self as envelope, hpke};
