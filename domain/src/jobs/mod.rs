//! Durable jobs (transactional outbox). A change enqueues its jobs in its own transaction, so
//! nothing is sent, closed or refunded that the database does not hold, and nothing it holds is
//! forgotten. Workers claim due jobs with a lease; a job whose worker died is claimed again after
//! its lease, so every job runs at least once and its handler makes a second run change nothing.
//!
//! Pure here: the retry schedule.

pub mod service;
pub mod store;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// What a change asks to have done.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: &'static str,
    pub payload: Value,
    /// Due time: for a deadline, the deadline itself (the chronograph).
    pub run_at: DateTime<Utc>,
    /// Enqueuing the same key twice keeps the first job: the same effect is asked once.
    pub idempotency_key: String,
    pub max_attempts: u32,
}

impl NewJob {
    pub fn new(
        kind: &'static str,
        payload: Value,
        run_at: DateTime<Utc>,
        idempotency_key: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            payload,
            run_at,
            idempotency_key: idempotency_key.into(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

pub const DEFAULT_MAX_ATTEMPTS: u32 = 12;

/// The wait before retry number `attempt` (1 = the first retry): exponential from 2 seconds, at
/// most an hour, spread by `jitter` (0.0–1.0) over ±25 % so that failed jobs do not retry in step.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 2u64.saturating_pow(attempt.min(12)).min(3600);
    let spread = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    Duration::from_millis((base as f64 * 1000.0 * spread) as u64)
}

/// A job's state, stored by its name.
pub use tenderhall_model::state::JobStatus;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_a_cap() {
        assert_eq!(backoff(1, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(3, 0.5), Duration::from_secs(8));
        assert_eq!(backoff(3, 0.0), Duration::from_secs(6));
        assert_eq!(backoff(3, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(40, 0.5), Duration::from_secs(3600));
    }
}
