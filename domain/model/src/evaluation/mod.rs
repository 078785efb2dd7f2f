//! Evaluation's rules (docs/spec/rules.md "Experts and evaluation"; docs/spec/evaluation.md): the
//! set-up a tender publishes, the price formulas the scoring simulator and the evaluation share,
//! and the K drawn at the opening.

pub mod award;
pub mod k;
pub mod price;
pub mod publicity;
pub mod room;
pub mod setup;
