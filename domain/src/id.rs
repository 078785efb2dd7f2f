//! Typed ids. Every id matches `[A-Za-z0-9_-]{1,64}` (docs/spec/api-contract.md), so `|` can separate them in signed
//! strings. New ids are a short prefix and a UUIDv7 (time-ordered, so lists page by id).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// The id grammar is the envelope's too: its header names the tender, lot and bidder.
pub use tenderhall_envelope::is_valid_id;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        typed_id!($(#[$doc])* $name);

        impl $name {
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, uuid::Uuid::now_v7().simple()))
            }
        }
    };
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                if is_valid_id(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(DomainError::NotFound)
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                if is_valid_id(&s) {
                    Ok(Self(s))
                } else {
                    Err(format!("`{s}` is not an id: 1 to 64 of A-Z a-z 0-9 _ -"))
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

typed_id!(
    /// A person's sign-in account.
    AccountId, "acc"
);
typed_id!(
    /// A tender (招标项目).
    TenderId, "tnd"
);
typed_id!(
    /// An organization: tenderer, agency, bidder or supervisor.
    OrganizationId, "org"
);
typed_id!(
    /// A tenderer's mandate to an agency (委托代理).
    MandateId, "mdt"
);
typed_id!(
    /// A lot of a tender (标段), named by the tenderer and unique within its tender: no prefix, and
    /// never generated.
    LotId
);
typed_id!(
    /// A bidder's registration for a lot, with its deposit account.
    RegistrationId, "reg"
);
typed_id!(
    /// A document of a tender.
    DocumentId, "doc"
);
typed_id!(
    /// A bidder's question about a tender's documents (澄清请求).
    QuestionId, "qst"
);
typed_id!(
    /// A refund of a deposit or fee.
    RefundId, "rfd"
);
typed_id!(
    /// A notification in an account's inbox.
    NotificationId, "ntf"
);
typed_id!(
    /// A job of the chronograph's queue.
    JobId, "job"
);
typed_id!(
    /// An expert of the pool (评标专家), named by the operators' import: no prefix of its own, and
    /// never generated.
    ExpertId
);
typed_id!(
    /// An expert draw (专家抽取).
    DrawId, "drw"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_api_ids() {
        let id = OrganizationId::generate();
        assert!(is_valid_id(id.as_str()), "{id}");
        assert!(id.as_str().starts_with("org_"));
    }

    #[test]
    fn generated_ids_keep_the_stored_format() {
        // Rows written before these kinds were typed hold `<prefix>_<32 hex>`: new ones must too.
        for (id, prefix) in [
            (RegistrationId::generate().to_string(), "reg_"),
            (DocumentId::generate().to_string(), "doc_"),
            (QuestionId::generate().to_string(), "qst_"),
            (RefundId::generate().to_string(), "rfd_"),
            (NotificationId::generate().to_string(), "ntf_"),
            (JobId::generate().to_string(), "job_"),
        ] {
            let hex = id.strip_prefix(prefix);
            assert!(
                hex.is_some_and(|h| h.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit())),
                "{id}"
            );
        }
    }

    #[test]
    fn ids_with_a_separator_or_too_long_are_refused() {
        assert!(!is_valid_id("a|b"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id(&"a".repeat(65)));
        assert!(is_valid_id(&"a".repeat(64)));
    }
}
