//! The award and the contract (docs/spec/evaluation.md "Award and contract"): who may be named
//! the winner, how long the contract may take, and how large a performance bond may be.

use rust_decimal::Decimal;

/// The contract is signed within 30 days of the award notice (招标投标法 Art 46).
pub const CONTRACT_DAYS: i64 = 30;
/// The owner and the winner are reminded this many days before the contract is due *(local)*.
pub const REMINDER_DAYS_BEFORE: i64 = 7;

/// Why the chosen candidate may not be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwardRefusal {
    /// Not among the published candidates.
    NotACandidate,
    /// A candidate ranked below the first, without the reason that passes over those above it
    /// (实施条例 Art 55: the first gives up, cannot perform, does not provide the bond, or is
    /// found to have broken the rules).
    FirstRankedPassedOver,
}

/// Whether the candidate ranked `rank` (1 for the first; `None` when not a candidate) may be named
/// the winner, given the reason the owner gives for passing over those ranked above it.
pub fn may_award(rank: Option<u64>, reason: Option<&str>) -> Result<(), AwardRefusal> {
    match rank {
        None => Err(AwardRefusal::NotACandidate),
        Some(1) => Ok(()),
        Some(_) if reason.is_some_and(|r| !r.trim().is_empty()) => Ok(()),
        Some(_) => Err(AwardRefusal::FirstRankedPassedOver),
    }
}

/// A performance bond is at most 10 % of the contract price (实施条例 Art 58; for government
/// procurement the same ceiling, 政府采购法实施条例 Art 48).
pub fn bond_allowed(bond: Decimal, contract_price: Decimal) -> bool {
    bond >= Decimal::ZERO && bond * Decimal::TEN <= contract_price
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn art_55_the_first_ranked_wins_unless_a_reason_passes_it_over() {
        assert_eq!(may_award(Some(1), None), Ok(()));
        assert_eq!(
            may_award(Some(2), None),
            Err(AwardRefusal::FirstRankedPassedOver)
        );
        assert_eq!(
            may_award(Some(2), Some("  ")),
            Err(AwardRefusal::FirstRankedPassedOver)
        );
        assert_eq!(may_award(Some(2), Some("第一名放弃中标")), Ok(()));
        assert_eq!(may_award(None, Some("x")), Err(AwardRefusal::NotACandidate));
    }

    #[test]
    fn art_58_a_performance_bond_is_at_most_ten_percent_of_the_price() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert!(bond_allowed(d("100000.00"), d("1000000.00")));
        assert!(!bond_allowed(d("100000.01"), d("1000000.00")));
        assert!(bond_allowed(Decimal::ZERO, d("1")));
        assert!(!bond_allowed(d("-1"), d("1000")));
    }
}
