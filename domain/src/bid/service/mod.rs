//! Sealed-bid use cases: opening keys, submission and the opening.

pub mod keys;
pub mod opening;
pub mod submission;
