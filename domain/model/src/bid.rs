//! When a sealed bid may arrive, be replaced, withdrawn or revoked: 电子招标投标办法 Art 26–31 and
//! 实施条例 Art 35, decided from the loaded state and the server's `now`, nowhere else.

use chrono::{DateTime, Utc};

use crate::error::ErrorCode;
use crate::state::BidStatus;

/// Whether bids may arrive, be replaced or withdrawn: the tender is active and the server's clock
/// is before its deadline (电子招标投标办法 Art 26: a bid counts if received before the deadline;
/// at the deadline itself it is late). The one place the bid deadline is decided.
pub fn bidding_open(tender_active: bool, deadline: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    tender_active && now < deadline
}

/// Why a bid transition is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BidRefusal {
    /// After the deadline (or the tender is no longer active): 409 `deadline_passed`.
    DeadlinePassed,
    /// Revoking before the deadline, when withdrawing is the way: 409 `deadline_not_passed`.
    DeadlineNotPassed,
    /// No active registration for the lot: 422 `not_registered`.
    NotRegistered,
    /// No current bid to withdraw or revoke: 404.
    NoCurrentBid,
}

impl BidRefusal {
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::DeadlinePassed => ErrorCode::DeadlinePassed,
            Self::DeadlineNotPassed => ErrorCode::DeadlineNotPassed,
            Self::NotRegistered => ErrorCode::NotRegistered,
            Self::NoCurrentBid => ErrorCode::NotFound,
        }
    }
}

/// What recording a checked, stored envelope does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submission {
    /// The bid's submission number: one more than the bidder's last for the lot.
    pub seq: i64,
    /// The bidder's current bid becomes `replaced`.
    pub replaces: bool,
}

/// 电子招标投标办法 Art 26–27: while bidding is open, a registered bidder's envelope becomes its
/// current bid, numbered after its last one, and the bid it had becomes `replaced`.
pub fn decide_submission(
    open: bool,
    registered: bool,
    last_seq: i64,
    has_current: bool,
) -> Result<Submission, BidRefusal> {
    if !open {
        return Err(BidRefusal::DeadlinePassed);
    }
    if !registered {
        return Err(BidRefusal::NotRegistered);
    }
    Ok(Submission {
        seq: last_seq + 1,
        replaces: has_current,
    })
}

/// 电子招标投标办法 Art 26 (撤回): while bidding is open the current bid may be withdrawn; it becomes
/// `withdrawn` and its deposit is refunded (实施条例 Art 35). After the deadline, never.
pub fn decide_withdrawal(open: bool, status: Option<BidStatus>) -> Result<BidStatus, BidRefusal> {
    if !open {
        return Err(BidRefusal::DeadlinePassed);
    }
    match status {
        Some(BidStatus::Current) => Ok(BidStatus::Withdrawn),
        _ => Err(BidRefusal::NoCurrentBid),
    }
}

/// What revoking does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// The current bid becomes `revoked` and its deposit is forfeited.
    Revoke,
    /// Revoked already: nothing changes (revoking twice forfeits once).
    AlreadyRevoked,
}

/// 实施条例 Art 35 (撤销): from the deadline on, the current bid may be revoked, forfeiting its
/// deposit; before it, a bid is withdrawn instead.
pub fn decide_revocation(
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    status: Option<BidStatus>,
) -> Result<Revocation, BidRefusal> {
    if now < deadline {
        return Err(BidRefusal::DeadlineNotPassed);
    }
    match status {
        Some(BidStatus::Current) => Ok(Revocation::Revoke),
        Some(BidStatus::Revoked) => Ok(Revocation::AlreadyRevoked),
        _ => Err(BidRefusal::NoCurrentBid),
    }
}

/// 电子招标投标办法 Art 26: an upload still arriving at the deadline does not count (the bidder's
/// previous bid, if any, stays current).
pub fn upload_too_late(deadline: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= deadline
}

/// What became of one bid at the opening (电子招标投标办法 Art 29–31).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Decrypted and read: its opening fields go into the record.
    Opened {
        fields: std::collections::BTreeMap<String, String>,
        plaintext_sha256: String,
    },
    /// 撤销: it cannot be decrypted or read through the bidder's fault, or the bidder revoked it
    /// after the deadline; its deposit is forfeited (实施条例 Art 35).
    Revoked(String),
    /// 撤回: lost through the platform's fault (电子招标投标办法 Art 31); the deposit goes back.
    Withdrawn(String),
}

impl Outcome {
    /// The name the record and the bid's row carry.
    pub fn status(&self) -> &'static str {
        match self {
            Self::Opened { .. } => "opened",
            Self::Revoked(_) => "revoked",
            Self::Withdrawn(_) => "withdrawn",
        }
    }
}

/// Whose fault an envelope that does not open is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A data key or a chunk that does not decrypt, or a price file that does not read: the
    /// bidder sealed it so.
    Bidder,
    /// Anything the upload check had passed that fails now, or an envelope the store lost or
    /// changed.
    Platform,
}

/// 电子招标投标办法 Art 31: a bid that does not open is revoked when the bidder is at fault and
/// counts as withdrawn when the platform is.
pub fn failed_opening(fault: Fault, reason: String) -> Outcome {
    match fault {
        Fault::Bidder => Outcome::Revoked(reason),
        Fault::Platform => Outcome::Withdrawn(reason),
    }
}

/// 招标投标法 Art 28 and the procedure's minimum: with fewer bids than `min_bids` the lot fails and
/// nothing is decrypted.
pub fn lot_fails_unopened(bids: usize, min_bids: usize) -> bool {
    bids < min_bids
}

/// A bid's line in the opening record: a bid the bidder revoked after the deadline stays revoked
/// (it is not decrypted); one the platform did not manage to open counts as withdrawn, never as the
/// bidder's fault.
pub fn outcome_at_opening(stored: Option<BidStatus>, opened: Option<&Outcome>) -> Outcome {
    match (stored, opened) {
        (Some(BidStatus::Revoked), _) => {
            Outcome::Revoked("revoked by the bidder after the deadline".to_owned())
        }
        (_, Some(outcome)) => outcome.clone(),
        (_, None) => {
            Outcome::Withdrawn("the platform could not open the stored envelope".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn deadline() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000)
    }

    #[test]
    fn art_31_at_the_opening_a_revoked_bid_stays_revoked_and_a_platform_fault_is_a_withdrawal() {
        let opened = Outcome::Opened {
            fields: std::collections::BTreeMap::new(),
            plaintext_sha256: "00".into(),
        };
        assert_eq!(
            outcome_at_opening(Some(BidStatus::Revoked), Some(&opened)).status(),
            "revoked"
        );
        assert_eq!(
            outcome_at_opening(Some(BidStatus::Current), Some(&opened)),
            opened
        );
        assert_eq!(
            outcome_at_opening(Some(BidStatus::Current), None).status(),
            "withdrawn"
        );
        assert_eq!(
            failed_opening(Fault::Bidder, "x".into()).status(),
            "revoked"
        );
        assert_eq!(
            failed_opening(Fault::Platform, "x".into()).status(),
            "withdrawn"
        );
        assert!(lot_fails_unopened(2, 3));
        assert!(!lot_fails_unopened(3, 3));
    }

    #[test]
    fn art_26_bidding_is_open_until_the_deadline_and_closed_at_it() {
        let d = deadline();
        assert!(bidding_open(true, d, d - TimeDelta::microseconds(1)));
        assert!(!bidding_open(true, d, d));
        assert!(!bidding_open(true, d, d + TimeDelta::seconds(1)));
        // A cancelled (not active) tender takes nothing, whatever the clock.
        assert!(!bidding_open(false, d, d - TimeDelta::days(1)));
    }

    #[test]
    fn art_26_a_registered_bidder_submits_and_a_second_upload_replaces_the_first() {
        assert_eq!(
            decide_submission(true, true, 0, false),
            Ok(Submission {
                seq: 1,
                replaces: false
            })
        );
        assert_eq!(
            decide_submission(true, true, 1, true),
            Ok(Submission {
                seq: 2,
                replaces: true
            })
        );
    }

    #[test]
    fn art_26_a_submission_at_the_deadline_or_unregistered_is_refused() {
        assert_eq!(
            decide_submission(false, true, 1, true),
            Err(BidRefusal::DeadlinePassed)
        );
        assert_eq!(
            decide_submission(true, false, 0, false),
            Err(BidRefusal::NotRegistered)
        );
        assert_eq!(
            BidRefusal::DeadlinePassed.code().as_str(),
            "deadline_passed"
        );
    }

    #[test]
    fn art_26_only_a_current_bid_is_withdrawn_and_only_before_the_deadline() {
        assert_eq!(
            decide_withdrawal(true, Some(BidStatus::Current)),
            Ok(BidStatus::Withdrawn)
        );
        for status in [
            None,
            Some(BidStatus::Replaced),
            Some(BidStatus::Withdrawn),
            Some(BidStatus::Revoked),
        ] {
            assert_eq!(
                decide_withdrawal(true, status),
                Err(BidRefusal::NoCurrentBid)
            );
        }
        assert_eq!(
            decide_withdrawal(false, Some(BidStatus::Current)),
            Err(BidRefusal::DeadlinePassed)
        );
    }

    #[test]
    fn art_35_a_bid_is_revoked_from_the_deadline_on_and_only_once() {
        let d = deadline();
        assert_eq!(
            decide_revocation(d, d, Some(BidStatus::Current)),
            Ok(Revocation::Revoke)
        );
        assert_eq!(
            decide_revocation(d, d + TimeDelta::days(1), Some(BidStatus::Revoked)),
            Ok(Revocation::AlreadyRevoked)
        );
        assert_eq!(
            decide_revocation(d, d - TimeDelta::microseconds(1), Some(BidStatus::Current)),
            Err(BidRefusal::DeadlineNotPassed)
        );
        assert_eq!(
            decide_revocation(d, d, Some(BidStatus::Withdrawn)),
            Err(BidRefusal::NoCurrentBid)
        );
        assert_eq!(decide_revocation(d, d, None), Err(BidRefusal::NoCurrentBid));
    }

    #[test]
    fn art_26_an_upload_still_arriving_at_the_deadline_does_not_count() {
        let d = deadline();
        assert!(!upload_too_late(d, d - TimeDelta::microseconds(1)));
        assert!(upload_too_late(d, d));
    }
}
