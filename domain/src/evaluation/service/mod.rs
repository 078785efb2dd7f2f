//! Evaluation's use cases.

pub mod award;
pub mod candidates;
pub mod complaints;
pub mod price_k;
pub mod room;
pub mod rounds;
pub mod status;
