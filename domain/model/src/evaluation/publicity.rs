//! The candidates' publicity and the objections to it (中标候选人公示与异议, 实施条例 Art 54;
//! docs/spec/evaluation.md "Candidates and objections"): published within 3 days of the report
//! for at least 3 days; a bidder objects during the period; the tenderer answers within 3 days and
//! the procedure is suspended until it has. Durations are calendar days, divided by a sandbox
//! accelerator.

/// How long the candidates stay published, at least.
pub const PUBLICITY_DAYS: i64 = 3;
/// How long the tenderer has to answer an objection.
pub const ANSWER_DAYS: i64 = 3;

/// Where the publicity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Within the period, no objection waiting.
    Publicity,
    /// An objection waits for its answer: the procedure is suspended.
    Suspended,
    /// The period is over and every objection answered: the award may follow.
    Ended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publicity => "publicity",
            Self::Suspended => "suspended",
            Self::Ended => "ended",
        }
    }
}

/// The status at a time within (`in_period`) or after the period, with `unanswered` objections.
pub fn status(in_period: bool, unanswered: usize) -> Status {
    if unanswered > 0 {
        Status::Suspended
    } else if in_period {
        Status::Publicity
    } else {
        Status::Ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn art_54_an_unanswered_objection_suspends_the_procedure_even_after_the_period() {
        assert_eq!(status(true, 0), Status::Publicity);
        assert_eq!(status(true, 1), Status::Suspended);
        assert_eq!(status(false, 1), Status::Suspended);
        assert_eq!(status(false, 0), Status::Ended);
    }
}
