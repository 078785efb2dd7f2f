//! The domain's error type: each variant carries a stable machine code that the API shows.

use std::time::Duration;

/// A message in both product languages (the API picks one by `Accept-Language`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub en: String,
    pub zh: String,
}

impl Text {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            zh: zh.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The object does not exist, or the caller may not know that it does.
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0:?}")]
    Forbidden(Text),
    #[error("the organization is not verified yet")]
    OrgUnverified,
    #[error("unauthenticated")]
    Unauthenticated,
    /// The same answer for an unknown email and a wrong password.
    #[error("bad credentials")]
    BadCredentials,
    #[error("too many attempts")]
    RateLimited { retry_after: Duration },
    /// A value failed a rule: `code` is the stable code (`invalid`, `weak_password`, ...).
    #[error("{code}: {field:?} {message:?}")]
    Invalid {
        code: &'static str,
        field: Option<String>,
        message: Text,
    },
    /// A state conflict: `code` is the stable code (`email_taken`, ...).
    #[error("{code}: {message:?}")]
    Conflict { code: &'static str, message: Text },
    /// A payment is due first (the document fee: 402 `fee_unpaid`).
    #[error("{code}: {message:?}")]
    PaymentRequired { code: &'static str, message: Text },
    /// Only a sandbox server offers this (docs/spec/api-contract.md "Conventions").
    #[error("sandbox only")]
    SandboxOnly,
    /// The database failed (the conversion from the driver's error lives in `store.rs`, keeping this
    /// file pure).
    #[error("database error: {0}")]
    Database(String),
    /// A fault of the platform, never of the caller: logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn invalid(field: &str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::Invalid {
            code: "invalid",
            field: Some(field.to_owned()),
            message: Text::new(en, zh),
        }
    }

    pub fn forbidden(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::Forbidden(Text::new(en, zh))
    }

    pub fn internal(context: impl std::fmt::Display) -> Self {
        Self::Internal(context.to_string())
    }
}
