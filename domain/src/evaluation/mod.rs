//! Evaluation (评标, docs/spec/evaluation.md). The rules are pure, in
//! `tenderhall_model::evaluation`: the set-up a tender publishes, the price formulas (which the
//! public scoring simulator runs too) and K's draw. Here: K committed at publication and revealed
//! at the opening.

pub mod regime;
pub mod service;
pub mod store;

pub use tenderhall_model::evaluation::{k, price, setup};
