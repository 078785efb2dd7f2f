//! The domain's error type: each variant carries a stable machine code that the API shows.

use std::time::Duration;

pub use tenderhall_model::error::{ErrorCode, Text};

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
    /// A value failed a rule (`invalid`, `weak_password`, ...), with the field it concerns.
    #[error("{code}: {field:?} {message:?}")]
    Invalid {
        code: ErrorCode,
        field: Option<String>,
        message: Text,
    },
    /// Any other refusal: the code says what and carries its status (409 `deadline_passed`, 402
    /// `fee_unpaid`, 403 `no_mandate`, ...).
    #[error("{code}: {message:?}")]
    Refused { code: ErrorCode, message: Text },
    /// Only a sandbox server offers this (docs/spec/api-contract.md "Conventions").
    #[error("sandbox only")]
    SandboxOnly,
    /// The database failed; the driver's error is kept whole for the log and for
    /// [`crate::store::violated_constraint`].
    #[error("database error: {0}")]
    Database(#[source] sea_orm::DbErr),
    /// A fault of the platform, never of the caller: logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    pub fn invalid(field: &str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::Invalid {
            code: ErrorCode::Invalid,
            field: Some(field.to_owned()),
            message: Text::new(en, zh),
        }
    }

    /// A refusal with its code (the status comes with the code).
    pub fn refused(code: ErrorCode, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::Refused {
            code,
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
