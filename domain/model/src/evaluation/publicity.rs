//! The candidates' publicity and the objections to it (中标候选人公示与异议, 实施条例 Art 54;
//! docs/spec/evaluation.md "Candidates and objections"): published within 3 days of the report
//! for at least 3 days; a bidder objects during the period; the tenderer answers within 3 days and
//! the procedure is suspended until it has. Durations are calendar days, divided by a sandbox
//! accelerator. Government procurement runs on working days instead: the result notice, the
//! challenges (质疑) and their answers; complaints (投诉) to the supervisors follow either.

/// How long the candidates stay published, at least.
pub const PUBLICITY_DAYS: i64 = 3;
/// How long the tenderer has to answer an objection.
pub const ANSWER_DAYS: i64 = 3;

/// Government procurement: the result notice (中标、成交结果公告) runs 1 working day (87号令
/// Art 69).
pub const GP_PUBLICITY_WORKING_DAYS: u32 = 1;
/// Government procurement: a challenge (质疑) comes within 7 working days of the notice's end, and
/// the purchaser answers it within 7 working days (政府采购法 Art 52–53).
pub const GP_CHALLENGE_WORKING_DAYS: u32 = 7;
pub const GP_ANSWER_WORKING_DAYS: u32 = 7;

/// A complaint (投诉) to the supervisors comes within 10 days of knowing the answer to the
/// objection, or that none came in time (实施条例 Art 60); government procurement: 15 working
/// days (政府采购法 Art 55).
pub const COMPLAINT_DAYS: u32 = 10;
pub const GP_COMPLAINT_WORKING_DAYS: u32 = 15;
/// The supervisors accept or refuse a complaint within 3 working days, and decide an accepted one
/// within 30 working days (实施条例 Art 61; 政府采购法 Art 56).
pub const COMPLAINT_ACCEPT_WORKING_DAYS: u32 = 3;
pub const COMPLAINT_DECIDE_WORKING_DAYS: u32 = 30;

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

/// The status at a time within (`in_period`) or after the period, with `unanswered` objections
/// and complaints that suspend the procedure (`suspending`: accepted with a suspension, not yet
/// decided; 政府采购法 Art 57).
pub fn status(in_period: bool, unanswered: usize) -> Status {
    status_with_complaints(in_period, unanswered, 0)
}

pub fn status_with_complaints(in_period: bool, unanswered: usize, suspending: usize) -> Status {
    if unanswered > 0 || suspending > 0 {
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

    #[test]
    fn art_57_a_complaint_accepted_with_a_suspension_suspends_the_procedure_until_decided() {
        assert_eq!(status_with_complaints(false, 0, 1), Status::Suspended);
        assert_eq!(status_with_complaints(false, 0, 0), Status::Ended);
    }
}
