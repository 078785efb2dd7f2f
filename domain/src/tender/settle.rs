//! Where a tender stands once its lots are decided (docs/spec/evaluation.md "Tender and lot
//! status"). A lot goes `opened` → `evaluating` once it is opened and its committee is seated,
//! → `awarded` at the award, or `failed`; the tender goes `closed` → `awarded` once no lot is still
//! undecided and at least one was awarded, → `complete` once every awarded lot has its contract.

use super::{LotStatus, TenderStatus};

/// The tender's status implied by its lots (`(status, contract recorded)`), or `None` while a lot
/// is still undecided or none was awarded (a tender whose lots all failed stays `closed`, to be
/// re-tendered as a copy).
pub fn settled_status(lots: &[(LotStatus, bool)]) -> Option<TenderStatus> {
    let undecided = lots.iter().any(|(s, _)| {
        matches!(
            s,
            LotStatus::Active | LotStatus::Opened | LotStatus::Evaluating
        )
    });
    let awarded: Vec<bool> = lots
        .iter()
        .filter(|(s, _)| *s == LotStatus::Awarded)
        .map(|(_, contracted)| *contracted)
        .collect();
    if undecided || awarded.is_empty() {
        return None;
    }
    Some(if awarded.iter().all(|c| *c) {
        TenderStatus::Complete
    } else {
        TenderStatus::Awarded
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use LotStatus::*;

    #[test]
    fn api_status_a_tender_is_awarded_once_no_lot_is_undecided_and_complete_with_every_contract() {
        assert_eq!(
            settled_status(&[(Awarded, false), (Evaluating, false)]),
            None
        );
        assert_eq!(settled_status(&[(Awarded, false), (Opened, false)]), None);
        assert_eq!(
            settled_status(&[(Awarded, false), (Failed, false)]),
            Some(TenderStatus::Awarded)
        );
        assert_eq!(
            settled_status(&[(Awarded, true), (Failed, false), (Awarded, false)]),
            Some(TenderStatus::Awarded)
        );
        assert_eq!(
            settled_status(&[(Awarded, true), (Failed, false), (Cancelled, false)]),
            Some(TenderStatus::Complete)
        );
    }

    #[test]
    fn art_28_a_tender_whose_lots_all_failed_stays_closed_for_a_retender() {
        assert_eq!(settled_status(&[(Failed, false), (Failed, false)]), None);
    }
}
