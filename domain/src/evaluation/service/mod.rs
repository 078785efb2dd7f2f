//! Evaluation's use cases.

pub mod candidates;
pub mod price_k;
pub mod room;
