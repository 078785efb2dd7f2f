//! The expert pool (评标专家库): experts are people with accounts, imported and managed by operators,
//! keeping their own availability, relationships and signing key current. The rules they are drawn
//! by are pure, in `tenderhall_model::expert`; the draw itself is the `draw` area.

pub mod import;
pub mod service;
pub mod store;

pub use tenderhall_model::expert::{
    Candidate, Exclusion, ExpertStatus, Parties, RepeatLimit, Specialty,
};

/// The kinds of declared relationship, as stored.
pub const FORMER_EMPLOYER: &str = "former_employer";
pub const RELATIVE_EMPLOYER: &str = "relative_employer";

/// How long an expert's activation link works: long enough for a mail read after a weekend.
pub const ACTIVATION_DAYS: i64 = 7;
