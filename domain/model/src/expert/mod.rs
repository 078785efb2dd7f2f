//! Evaluation experts (评标专家) and who may sit on a committee: specialties, the avoidance rules
//! (政府采购法实施条例 Art 9; 评标委员会暂行规定 Art 12; docs/spec/rules.md "Experts"), the committee's
//! size ([`committee`]) and the verifiable random draw ([`draw`]).

pub mod committee;
pub mod draw;
pub mod proof;

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Months, NaiveDate};

use crate::named_states;

/// A specialty code: segments of upper-case letters and digits joined by dots, each segment a
/// narrower field of the one before (`A01.02` is within `A01`, which is within `A`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Specialty(String);

impl Specialty {
    /// At most this long (a code, not a description).
    pub const MAX_LEN: usize = 32;

    pub fn parse(code: &str) -> Option<Self> {
        let code = code.trim();
        let well_formed = !code.is_empty()
            && code.len() <= Self::MAX_LEN
            && code.split('.').all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            });
        well_formed.then(|| Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An expert of this specialty may fill a seat asking for `requested`: the same code, or one
    /// within it (`A01.02` fills a seat for `A01`, not the other way round).
    pub fn fills(&self, requested: &Specialty) -> bool {
        self.0 == requested.0
            || (self.0.len() > requested.0.len()
                && self.0.starts_with(&requested.0)
                && self.0.as_bytes()[requested.0.len()] == b'.')
    }
}

impl fmt::Display for Specialty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

named_states!(
    /// Whether an expert may be drawn.
    ExpertStatus {
        /// In the pool.
        Active => "active",
        /// Out of the pool until the suspension's end date (a penalty, 政府采购法实施条例 Art 9).
        Suspended => "suspended",
    }
);

named_states!(
    /// Why an expert of the right specialty was left out of a draw. Kept for supervisors with the
    /// draw; the owner sees counts only.
    Exclusion {
        /// Suspended on the draw's day.
        Suspended => "suspended",
        /// Declared the draw's day unavailable.
        Unavailable => "unavailable",
        /// Works, or worked within 3 years, for the tenderer, its agency or a registered bidder of the
        /// lot (政府采购法实施条例 Art 9; 评标委员会暂行规定 Art 12).
        EmployerConflict => "employer_conflict",
        /// A declared relative works for the tenderer, its agency or a registered bidder.
        RelativeConflict => "relative_conflict",
        /// Works for a supervising organization (评标委员会暂行规定 Art 12: staff of the authority).
        SupervisorStaff => "supervisor_staff",
        /// Sat on more of the tenderer's committees in the recent months than the platform allows.
        EvaluationLimit => "evaluation_limit",
        /// Another expert of the same employer already holds a seat (one seat per employer).
        SameEmployer => "same_employer",
    }
);

/// The years after leaving an employer during which an expert still avoids it
/// (政府采购法实施条例 Art 9: "within 3 years").
pub const FORMER_EMPLOYER_YEARS: u32 = 3;

/// An expert of the pool as a draw reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub expert_id: String,
    pub specialties: Vec<Specialty>,
    pub region: String,
    /// The employer's unified social credit code.
    pub employer: String,
    /// The end date of a suspension in force, if any (`None`: active).
    pub suspended_until: Option<NaiveDate>,
    pub unavailable: BTreeSet<NaiveDate>,
    /// Former employers, with the day the expert left each.
    pub former_employers: Vec<(String, NaiveDate)>,
    /// The employers of declared close relatives.
    pub relatives_employers: Vec<String>,
    /// Committees of this tenderer the expert sat on within the platform's look-back window.
    pub recent_evaluations_for_tenderer: u32,
}

/// Who the draw must avoid, by credit code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parties {
    /// The tenderer, its agency and the lot's registered bidders.
    pub interested: BTreeSet<String>,
    /// The supervising organizations.
    pub supervisors: BTreeSet<String>,
}

/// The platform's limit on repeat evaluations for one tenderer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatLimit {
    /// At most this many committees of one tenderer …
    pub max_evaluations: u32,
    /// … within this many months.
    pub months: u32,
}

impl Default for RepeatLimit {
    fn default() -> Self {
        Self {
            max_evaluations: 3,
            months: 12,
        }
    }
}

/// Why `candidate` may not sit on the draw of `on` (the draw's day), if anything: the avoidance
/// rules in a fixed order, so that each exclusion has one reason. One seat per employer is decided
/// while seating ([`draw::seat`]), not here.
pub fn exclusion(
    candidate: &Candidate,
    parties: &Parties,
    limit: RepeatLimit,
    on: NaiveDate,
) -> Option<Exclusion> {
    if candidate.suspended_until.is_some_and(|end| on <= end) {
        return Some(Exclusion::Suspended);
    }
    if candidate.unavailable.contains(&on) {
        return Some(Exclusion::Unavailable);
    }
    let window_start = on
        .checked_sub_months(Months::new(12 * FORMER_EMPLOYER_YEARS))
        .unwrap_or(NaiveDate::MIN);
    let recent_former = candidate
        .former_employers
        .iter()
        .filter(|(_, left)| *left >= window_start)
        .map(|(code, _)| code);
    if parties.interested.contains(&candidate.employer)
        || recent_former
            .clone()
            .any(|code| parties.interested.contains(code))
    {
        return Some(Exclusion::EmployerConflict);
    }
    if candidate
        .relatives_employers
        .iter()
        .any(|code| parties.interested.contains(code))
    {
        return Some(Exclusion::RelativeConflict);
    }
    if parties.supervisors.contains(&candidate.employer)
        || recent_former
            .clone()
            .any(|code| parties.supervisors.contains(code))
    {
        return Some(Exclusion::SupervisorStaff);
    }
    if candidate.recent_evaluations_for_tenderer >= limit.max_evaluations {
        return Some(Exclusion::EvaluationLimit);
    }
    None
}

/// Who of the pool takes part in a draw, and who is left out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Eligibility {
    /// The eligible experts, by id ascending (the proof's eligibility order).
    pub eligible: Vec<String>,
    /// Experts of a wanted specialty and region left out, by id, with the reason.
    pub excluded: Vec<(String, Exclusion)>,
    /// Each eligible expert's employer and the groups it can fill.
    pub seatable: std::collections::BTreeMap<String, draw::Seatable>,
}

/// Sorts the pool for a draw of `groups` on the day `on`: an expert who fills none of the groups
/// is not part of the draw at all; one who does is eligible unless an avoidance rule
/// ([`exclusion`]) leaves it out.
pub fn eligibility(
    pool: &[Candidate],
    groups: &[draw::SeatGroup],
    parties: &Parties,
    limit: RepeatLimit,
    on: NaiveDate,
) -> Eligibility {
    let wanted = draw::Wanted::new(groups);
    let mut seatable = Vec::new();
    let mut excluded = Vec::new();
    for candidate in pool {
        let fills = wanted.filled_by(&candidate.specialties, &candidate.region);
        if fills.is_empty() {
            continue;
        }
        match exclusion(candidate, parties, limit, on) {
            Some(reason) => excluded.push((candidate.expert_id.clone(), reason)),
            None => seatable.push((
                candidate.expert_id.clone(),
                draw::Seatable {
                    expert_id: candidate.expert_id.clone(),
                    employer: candidate.employer.clone(),
                    fills,
                },
            )),
        }
    }
    excluded.sort();
    // Built from the whole list at once (sorted, then in bulk), not one insertion at a time.
    let seatable: std::collections::BTreeMap<String, draw::Seatable> =
        seatable.into_iter().collect();
    Eligibility {
        eligible: seatable.keys().cloned().collect(),
        excluded,
        seatable,
    }
}

#[cfg(test)]
// Tests: a failed unwrap is a failed test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn expert() -> Candidate {
        Candidate {
            expert_id: "exp_1".to_owned(),
            specialties: vec![Specialty::parse("A01.02").unwrap()],
            region: "330100".to_owned(),
            employer: "EMPLOYER".to_owned(),
            suspended_until: None,
            unavailable: BTreeSet::new(),
            former_employers: Vec::new(),
            relatives_employers: Vec::new(),
            recent_evaluations_for_tenderer: 0,
        }
    }

    fn parties() -> Parties {
        Parties {
            interested: ["TENDERER", "BIDDER"].map(str::to_owned).into(),
            supervisors: ["SUPERVISOR"].map(str::to_owned).into(),
        }
    }

    #[test]
    fn a_narrower_specialty_fills_a_seat_for_a_wider_one_not_the_reverse() {
        let a01 = Specialty::parse("A01").unwrap();
        let a0102 = Specialty::parse("A01.02").unwrap();
        assert!(a0102.fills(&a01));
        assert!(a01.fills(&a01));
        assert!(!a01.fills(&a0102));
        // A prefix of a segment is another field.
        assert!(!Specialty::parse("A011").unwrap().fills(&a01));
        for bad in [
            "",
            "a01",
            "A01.",
            ".A01",
            "A01..02",
            "A 01",
            &"A".repeat(33),
        ] {
            assert_eq!(Specialty::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn art_9_an_employee_of_a_party_now_or_within_3_years_is_excluded() {
        let on = day("2027-06-01");
        assert_eq!(
            exclusion(&expert(), &parties(), RepeatLimit::default(), on),
            None
        );
        let mut now = expert();
        now.employer = "BIDDER".to_owned();
        assert_eq!(
            exclusion(&now, &parties(), RepeatLimit::default(), on),
            Some(Exclusion::EmployerConflict)
        );
        let mut within = expert();
        within.former_employers = vec![("TENDERER".to_owned(), day("2024-06-01"))];
        assert_eq!(
            exclusion(&within, &parties(), RepeatLimit::default(), on),
            Some(Exclusion::EmployerConflict)
        );
        let mut long_ago = expert();
        long_ago.former_employers = vec![("TENDERER".to_owned(), day("2024-05-31"))];
        assert_eq!(
            exclusion(&long_ago, &parties(), RepeatLimit::default(), on),
            None
        );
    }

    #[test]
    fn art_12_relatives_supervisors_staff_suspensions_and_unavailable_days_exclude() {
        let on = day("2027-06-01");
        let limit = RepeatLimit::default();
        let mut relative = expert();
        relative.relatives_employers = vec!["BIDDER".to_owned()];
        assert_eq!(
            exclusion(&relative, &parties(), limit, on),
            Some(Exclusion::RelativeConflict)
        );
        let mut staff = expert();
        staff.employer = "SUPERVISOR".to_owned();
        assert_eq!(
            exclusion(&staff, &parties(), limit, on),
            Some(Exclusion::SupervisorStaff)
        );
        let mut suspended = expert();
        suspended.suspended_until = Some(on);
        assert_eq!(
            exclusion(&suspended, &parties(), limit, on),
            Some(Exclusion::Suspended)
        );
        suspended.suspended_until = Some(day("2027-05-31"));
        assert_eq!(exclusion(&suspended, &parties(), limit, on), None);
        let mut away = expert();
        away.unavailable.insert(on);
        assert_eq!(
            exclusion(&away, &parties(), limit, on),
            Some(Exclusion::Unavailable)
        );
        let mut busy = expert();
        busy.recent_evaluations_for_tenderer = 3;
        assert_eq!(
            exclusion(&busy, &parties(), limit, on),
            Some(Exclusion::EvaluationLimit)
        );
    }
}
