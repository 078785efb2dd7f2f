//! Evaluation (评标). The price formulas are pure, in `tenderhall_model::evaluation`; the public
//! scoring simulator runs them today, and the evaluation room will.

pub use tenderhall_model::evaluation::price;
