//! Which law's periods a lot's result follows (docs/spec/evaluation.md "Candidates and
//! objections", "Complaints"): the tendering law's calendar days (实施条例 Art 54, 60–61), or
//! government procurement's working days (87号令 Art 69; 政府采购法 Art 52–56). Goods and services
//! are government procurement, as for the deposits and the price weights.

use tenderhall_model::evaluation::publicity::{
    ANSWER_DAYS, COMPLAINT_ACCEPT_WORKING_DAYS, COMPLAINT_DAYS, COMPLAINT_DECIDE_WORKING_DAYS,
    GP_ANSWER_WORKING_DAYS, GP_CHALLENGE_WORKING_DAYS, GP_COMPLAINT_WORKING_DAYS,
    GP_PUBLICITY_WORKING_DAYS, PUBLICITY_DAYS,
};

use crate::tender::procedure::{Kind, Period};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    /// 招标投标法: candidates' publicity and objections (异议).
    TenderingLaw,
    /// 政府采购法: the result notice and challenges (质疑).
    GovernmentProcurement,
}

impl Regime {
    pub fn of(kind: &str) -> Self {
        match kind.parse::<Kind>() {
            Ok(Kind::Goods | Kind::Services) => Self::GovernmentProcurement,
            _ => Self::TenderingLaw,
        }
    }

    /// What the published list is called in records and messages.
    pub fn notice(self) -> &'static str {
        match self {
            Self::TenderingLaw => "candidates",
            Self::GovernmentProcurement => "result",
        }
    }

    /// What an objection to it is called.
    pub fn objection(self) -> &'static str {
        match self {
            Self::TenderingLaw => "objection",
            Self::GovernmentProcurement => "challenge",
        }
    }

    pub fn publicity(self) -> Period {
        match self {
            Self::TenderingLaw => Period::Days(days(PUBLICITY_DAYS)),
            Self::GovernmentProcurement => Period::WorkingDays(GP_PUBLICITY_WORKING_DAYS),
        }
    }

    /// How long after the publicity's end objections are still taken (none under the tendering
    /// law: during the publicity only).
    pub fn objections_after(self) -> Option<Period> {
        match self {
            Self::TenderingLaw => None,
            Self::GovernmentProcurement => Some(Period::WorkingDays(GP_CHALLENGE_WORKING_DAYS)),
        }
    }

    pub fn answer(self) -> Period {
        match self {
            Self::TenderingLaw => Period::Days(days(ANSWER_DAYS)),
            Self::GovernmentProcurement => Period::WorkingDays(GP_ANSWER_WORKING_DAYS),
        }
    }

    pub fn complaint_window(self) -> Period {
        match self {
            Self::TenderingLaw => Period::Days(COMPLAINT_DAYS),
            Self::GovernmentProcurement => Period::WorkingDays(GP_COMPLAINT_WORKING_DAYS),
        }
    }

    pub fn complaint_acceptance() -> Period {
        Period::WorkingDays(COMPLAINT_ACCEPT_WORKING_DAYS)
    }

    pub fn complaint_decision() -> Period {
        Period::WorkingDays(COMPLAINT_DECIDE_WORKING_DAYS)
    }
}

fn days(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn art_54_and_gp_art_69_the_two_laws_publish_and_take_objections_on_their_own_clocks() {
        let tl = Regime::of("construction");
        assert_eq!(tl, Regime::TenderingLaw);
        assert_eq!(tl.publicity(), Period::Days(3), "实施条例 Art 54");
        assert_eq!(tl.objections_after(), None, "during the publicity only");
        assert_eq!(tl.answer(), Period::Days(3));
        assert_eq!(tl.complaint_window(), Period::Days(10), "实施条例 Art 60");
        let gp = Regime::of("goods");
        assert_eq!(gp, Regime::GovernmentProcurement);
        assert_eq!(Regime::of("services"), gp);
        assert_eq!(gp.publicity(), Period::WorkingDays(1), "87号令 Art 69");
        assert_eq!(
            gp.objections_after(),
            Some(Period::WorkingDays(7)),
            "政府采购法 Art 52"
        );
        assert_eq!(gp.answer(), Period::WorkingDays(7), "政府采购法 Art 53");
        assert_eq!(
            gp.complaint_window(),
            Period::WorkingDays(15),
            "政府采购法 Art 55"
        );
        assert_eq!(Regime::complaint_acceptance(), Period::WorkingDays(3));
        assert_eq!(Regime::complaint_decision(), Period::WorkingDays(30));
    }
}
