//! 委托代理: a tenderer mandates an agency (招标代理机构) to run its procurements (招标投标法 Art 13,
//! 15: the agency acts within the tenderer's mandate). An agency creates, publishes and manages a
//! tender for a tenderer only while a mandate from that tenderer is current; the tenderer grants
//! and revokes it, and every act under it is recorded on the tender's audit chain.
//!
//! The rules here are pure; `store.rs` owns the `agency_mandates` table, `service.rs` the use cases.

pub mod service;
pub mod store;

use chrono::{DateTime, Utc};

use crate::error::{DomainError, ErrorCode};

/// A mandate as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mandate {
    pub id: String,
    pub tenderer_org_id: String,
    pub agency_org_id: String,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Mandate {
    /// Granted and not revoked.
    pub fn is_current(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// The refusal of an agency that acts for a tenderer without its current mandate.
pub fn no_mandate(tenderer_org_id: &str) -> DomainError {
    DomainError::refused(
        ErrorCode::NoMandate,
        format!(
            "Your agency holds no current mandate (委托) from the tenderer `{tenderer_org_id}`: the tenderer grants one at POST /api/v1/organizations/{tenderer_org_id}/mandates."
        ),
        format!(
            "贵代理机构未获得招标人 `{tenderer_org_id}` 的有效委托：请招标人通过 POST /api/v1/organizations/{tenderer_org_id}/mandates 授予委托。"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_mandate_is_no_longer_current() {
        let mut m = Mandate {
            id: "mdt_1".into(),
            tenderer_org_id: "org_t".into(),
            agency_org_id: "org_a".into(),
            granted_by: "acc_1".into(),
            granted_at: DateTime::<Utc>::UNIX_EPOCH,
            revoked_at: None,
        };
        assert!(m.is_current());
        m.revoked_at = Some(DateTime::<Utc>::UNIX_EPOCH);
        assert!(!m.is_current());
    }

    #[test]
    fn the_refusal_is_403_no_mandate_and_says_who_grants_it() {
        match no_mandate("org_t") {
            DomainError::Refused { code, message } => {
                assert_eq!((code.as_str(), code.status()), ("no_mandate", 403));
                assert!(message.en.contains("/api/v1/organizations/org_t/mandates"));
            }
            other => panic!("{other:?}"),
        }
    }
}
