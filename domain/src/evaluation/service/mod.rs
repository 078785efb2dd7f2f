//! Evaluation's use cases.

pub mod price_k;
pub mod room;
