//! Evaluation's rules (docs/spec/rules.md "Experts and evaluation"): for now the price formulas,
//! which the scoring simulator and the evaluation share.

pub mod price;
