//! Sessions: sign in (with the limit on failures), resolve a token, sign out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use crate::account::store::{accounts, login_failures, organizations, sessions};
use crate::account::{Email, Membership, Principal, password};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult};
use crate::id::{AccountId, OrganizationId};
use crate::store::begin_write;

/// Limits on failed sign-ins and the life of a session.
#[derive(Debug, Clone, Copy)]
pub struct SignInPolicy {
    /// Failures for one email address within `window` before sign-in is refused with 429.
    pub max_failures_per_email: u64,
    /// Failures from one IP address within `window` (password spraying over many accounts).
    pub max_failures_per_ip: u64,
    pub window: TimeDelta,
    pub session_ttl: TimeDelta,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        Self {
            max_failures_per_email: 5,
            max_failures_per_ip: 100,
            window: TimeDelta::minutes(15),
            session_ttl: TimeDelta::hours(12),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSession {
    /// The bearer token: shown once, stored only as its hash.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub account_id: AccountId,
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ))
}

/// A secret for a link or a bearer token: `prefix` and 32 random bytes, base64url.
pub(crate) fn random_token(prefix: &str) -> DomainResult<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| DomainError::internal("random generator failed"))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Refuses while `max` failures for `value` were recorded after `since`; they count until a
/// window after the oldest of them.
async fn check_rate_limit(
    db: &DatabaseConnection,
    policy: &SignInPolicy,
    column: login_failures::Column,
    value: &str,
    max: u64,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let recent = login_failures::Entity::find()
        .filter(column.eq(value))
        .filter(login_failures::Column::At.gt(since));
    if recent.clone().count(db).await? < max {
        return Ok(());
    }
    let oldest: Option<DateTime<Utc>> = recent
        .select_only()
        .column(login_failures::Column::At)
        .order_by_asc(login_failures::Column::At)
        .into_tuple()
        .one(db)
        .await?;
    let until = oldest.map_or(now + policy.window, |t| t + policy.window);
    let retry_after = (until - now)
        .to_std()
        .unwrap_or_default()
        .max(std::time::Duration::from_secs(1));
    Err(DomainError::RateLimited { retry_after })
}

/// Signs in with email and password. An unknown address and a wrong password give the same
/// answer in the same time; too many failures for an address or from an IP address are refused
/// with `RateLimited` until the window passes, whatever the password.
pub async fn sign_in(
    db: &DatabaseConnection,
    policy: &SignInPolicy,
    email: &str,
    password_text: &str,
    ip: &str,
    now: DateTime<Utc>,
) -> DomainResult<NewSession> {
    let email_key =
        Email::parse(email).map_or_else(|_| email.trim().to_lowercase(), |e| e.as_str().to_owned());
    let email_key: String = email_key.chars().take(254).collect();
    let account = accounts::Entity::find()
        .filter(accounts::Column::Email.eq(&email_key))
        .one(db)
        .await?;
    let window_start = now - policy.window;
    // Failed sign-ins are kept as a record; a success only stops the older ones from counting.
    let last_success: Option<DateTime<Utc>> = match &account {
        Some(a) => {
            sessions::Entity::find()
                .select_only()
                .column(sessions::Column::CreatedAt)
                .filter(sessions::Column::AccountId.eq(a.id.clone()))
                .order_by_desc(sessions::Column::CreatedAt)
                .into_tuple()
                .one(db)
                .await?
        }
        None => None,
    };
    let email_since = last_success.map_or(window_start, |t| t.max(window_start));
    check_rate_limit(
        db,
        policy,
        login_failures::Column::Email,
        &email_key,
        policy.max_failures_per_email,
        email_since,
        now,
    )
    .await?;
    check_rate_limit(
        db,
        policy,
        login_failures::Column::Ip,
        ip,
        policy.max_failures_per_ip,
        window_start,
        now,
    )
    .await?;

    let stored = account.as_ref().map_or_else(
        || password::decoy_hash().to_owned(),
        |a| a.password_hash.clone(),
    );
    let candidate = password_text.to_owned();
    let matches = tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
        .await
        .map_err(DomainError::internal)?;
    let Some(account) = account.filter(|_| matches) else {
        let txn = begin_write(db).await?;
        login_failures::Entity::insert(login_failures::ActiveModel {
            email: Set(email_key),
            ip: Set(ip.to_owned()),
            at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        tracing::warn!(ip, "failed sign-in");
        return Err(DomainError::BadCredentials);
    };

    let token = random_token("th_")?;
    let expires_at = now + policy.session_ttl;
    let txn = begin_write(db).await?;
    sessions::Entity::insert(sessions::ActiveModel {
        token_hash: Set(token_hash(&token)),
        account_id: Set(account.id.clone()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ip: Set(Some(ip.to_owned())),
    })
    .exec_without_returning(&txn)
    .await?;
    let actor = Actor::account(&account.id, Some(ip.to_owned()));
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &actor,
            "session.create",
            format!("account:{}", account.id),
        )
        .details(json!({"expires_at": crate::time::rfc3339(expires_at)})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(NewSession {
        token,
        expires_at,
        account_id: AccountId::parse(&account.id)?,
    })
}

/// Resolves a bearer token to its principal; expired, revoked and unknown tokens are all
/// `Unauthenticated`.
pub async fn authenticate(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> DomainResult<Principal> {
    let session = sessions::Entity::find_by_id(token_hash(token))
        .one(db)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
        .ok_or(DomainError::Unauthenticated)?;
    let account = accounts::Entity::find_by_id(session.account_id)
        .one(db)
        .await?
        .ok_or(DomainError::Unauthenticated)?;
    principal_of(db, account).await
}

async fn principal_of(
    db: &DatabaseConnection,
    account: accounts::Model,
) -> DomainResult<Principal> {
    let membership = match &account.organization_id {
        Some(org_id) => {
            let org = organizations::Entity::find_by_id(org_id.clone())
                .one(db)
                .await?
                .ok_or_else(|| {
                    DomainError::internal(format!(
                        "account {} has a missing organization",
                        account.id
                    ))
                })?;
            Some(Membership {
                organization_id: OrganizationId::parse(&org.id)?,
                kind: org.kind.parse()?,
                verified: org.verified,
            })
        }
        None => None,
    };
    Ok(Principal {
        account_id: AccountId::parse(&account.id)?,
        email: account.email,
        name: account.name,
        membership,
        is_operator: account.is_operator,
        expert_id: account
            .expert_id
            .as_deref()
            .map(crate::id::ExpertId::parse)
            .transpose()?,
    })
}

/// Ends the session of `token`: the token no longer works anywhere.
pub async fn sign_out(
    db: &DatabaseConnection,
    token: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let session = sessions::Entity::find_by_id(token_hash(token))
        .one(&txn)
        .await?
        .filter(|s| s.revoked_at.is_none())
        .ok_or(DomainError::Unauthenticated)?;
    sessions::Entity::update(sessions::ActiveModel {
        token_hash: Set(session.token_hash.clone()),
        revoked_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let actor = Actor::account(&session.account_id, ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &actor,
            "session.end",
            format!("account:{}", session.account_id),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
