//! Notification use cases: notify accounts (in the platform and by mail), read and mark
//! notifications, reset a password by mailed link, and the mail log that keeps sending idempotent.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use super::store::{mail_log, notifications, password_resets};
use super::{MailMessage, in_language, password_reset};
use crate::account::service::{random_token, token_hash};
use crate::account::store::{accounts, queries};
use crate::account::{Email, Principal, password};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::NotificationId;
use crate::jobs::service as jobs;
use crate::store::begin_write;

/// Adds `message` to the mail queue inside the caller's transaction, once per key.
pub async fn enqueue_mail(
    txn: &impl ConnectionTrait,
    message: MailMessage,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let job = super::mail_job(&message, now).map_err(|e| DbErr::Custom(e.to_string()))?;
    jobs::enqueue(txn, job, now).await
}

/// Notifies one account in its language: a notification in the platform and, with `mail`, a message
/// to its address; both in the caller's transaction.
pub async fn notify(
    txn: &impl ConnectionTrait,
    account: &accounts::Model,
    kind: &str,
    object: Option<String>,
    (title, body): &(Text, Text),
    mail: bool,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let id = NotificationId::generate().to_string();
    let title = in_language(title, &account.language);
    let body = in_language(body, &account.language);
    notifications::Entity::insert(notifications::ActiveModel {
        id: Set(id.clone()),
        account_id: Set(account.id.clone()),
        kind: Set(kind.to_owned()),
        title: Set(title.clone()),
        body: Set(body.clone()),
        object: Set(object),
        created_at: Set(now),
        read_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    if mail {
        enqueue_mail(
            txn,
            MailMessage {
                message_key: id,
                to: account.email.clone(),
                subject: title,
                body,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Notifies every member of `organization_id`.
pub async fn notify_organization(
    txn: &impl ConnectionTrait,
    organization_id: &str,
    kind: &str,
    object: Option<String>,
    message: &(Text, Text),
    mail: bool,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let members = queries::members(txn, organization_id).await?;
    for account in &members {
        notify(txn, account, kind, object.clone(), message, mail, now).await?;
    }
    Ok(())
}

/// A notification as its recipient sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub object: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<notifications::Model> for Notification {
    fn from(m: notifications::Model) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            title: m.title,
            body: m.body,
            object: m.object,
            created_at: m.created_at,
            read_at: m.read_at,
        }
    }
}

/// The caller's notifications, newest first.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    unread_only: bool,
    before_id: Option<&str>,
    limit: u64,
) -> DomainResult<Vec<Notification>> {
    let mut query = notifications::Entity::find()
        .filter(notifications::Column::AccountId.eq(principal.account_id.as_str()))
        .order_by_desc(notifications::Column::Id)
        .limit(limit);
    if unread_only {
        query = query.filter(notifications::Column::ReadAt.is_null());
    }
    if let Some(before) = before_id {
        query = query.filter(notifications::Column::Id.lt(before));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .map(Notification::from)
        .collect())
}

/// Marks one of the caller's notifications read (again: no change).
pub async fn mark_read(
    db: &DatabaseConnection,
    principal: &Principal,
    notification: &NotificationId,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let found = notifications::Entity::find_by_id(notification.as_str().to_owned())
        .one(db)
        .await?
        .filter(|n| n.account_id == principal.account_id.as_str())
        .ok_or(DomainError::NotFound)?;
    if found.read_at.is_none() {
        notifications::Entity::update(notifications::ActiveModel {
            id: Set(found.id),
            read_at: Set(Some(now)),
            ..Default::default()
        })
        .exec(db)
        .await?;
    }
    Ok(())
}

/// How long a reset link works.
pub const RESET_MINUTES: i64 = 30;
/// Reset mails per address per hour: more requests are answered the same but send nothing.
const RESETS_PER_HOUR: u64 = 3;

/// Mails a single-use reset link to `email` if an account has it. The caller answers the same
/// whether or not it does, so the answer tells nobody which addresses are registered.
pub async fn request_password_reset(
    db: &DatabaseConnection,
    email: &str,
    public_url: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let Some(account) = queries::by_email(db, email.as_str()).await? else {
        return Ok(());
    };
    let recent = password_resets::Entity::find()
        .filter(password_resets::Column::AccountId.eq(account.id.clone()))
        .filter(password_resets::Column::CreatedAt.gt(now - TimeDelta::hours(1)))
        .count(db)
        .await?;
    if recent >= RESETS_PER_HOUR {
        return Ok(());
    }
    let token = random_token("thr_")?;
    let link = format!(
        "{}/reset-password?token={token}",
        public_url.trim_end_matches('/')
    );
    let (subject, body) = password_reset(&link, RESET_MINUTES);
    let txn = begin_write(db).await?;
    let hash = token_hash(&token);
    password_resets::Entity::insert(password_resets::ActiveModel {
        token_hash: Set(hash.clone()),
        account_id: Set(account.id.clone()),
        created_at: Set(now),
        expires_at: Set(now + TimeDelta::minutes(RESET_MINUTES)),
        used_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let message = MailMessage {
        message_key: format!("reset_{}", &hash[..32]),
        to: account.email.clone(),
        subject: in_language(&subject, &account.language),
        body: in_language(&body, &account.language),
    };
    enqueue_mail(&txn, message, now).await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::account(&account.id, None),
            "password_reset.request",
            format!("account:{}", account.id),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn bad_token() -> DomainError {
    DomainError::Invalid {
        code: ErrorCode::ResetTokenInvalid,
        field: Some("token".to_owned()),
        message: Text::new(
            "This reset link is unknown, used or expired: ask for a new one.",
            "该重置链接无效、已使用或已过期，请重新申请。",
        ),
    }
}

/// Sets a new password with a reset token: once, before it expires. Every session of the account
/// ends, so whoever knew the old password is signed out.
pub async fn reset_password(
    db: &DatabaseConnection,
    token: &str,
    new_password: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    password::check_strength(new_password)?;
    let candidate = new_password.to_owned();
    let hash = tokio::task::spawn_blocking(move || password::hash(&candidate))
        .await
        .map_err(DomainError::internal)??;
    let txn = begin_write(db).await?;
    let reset = password_resets::Entity::find_by_id(token_hash(token))
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|r| r.used_at.is_none() && r.expires_at > now)
        .ok_or_else(bad_token)?;
    password_resets::Entity::update(password_resets::ActiveModel {
        token_hash: Set(reset.token_hash.clone()),
        used_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    queries::set_password_ending_sessions(&txn, &reset.account_id, hash, now).await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::account(&reset.account_id, ip),
            "password_reset.complete",
            format!("account:{}", reset.account_id),
        )
        .details(json!({"sessions_ended": true})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Whether a message with this key was accepted already.
pub async fn mail_already_sent(db: &DatabaseConnection, message_key: &str) -> DomainResult<bool> {
    Ok(mail_log::Entity::find_by_id(message_key.to_owned())
        .one(db)
        .await?
        .is_some())
}

/// Records that `message` was accepted by `transport`.
pub async fn record_mail_sent(
    db: &DatabaseConnection,
    message: &MailMessage,
    transport: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    mail_log::Entity::insert(mail_log::ActiveModel {
        message_key: Set(message.message_key.clone()),
        recipient: Set(message.to.clone()),
        subject: Set(message.subject.chars().take(500).collect()),
        transport: Set(transport.to_owned()),
        sent_at: Set(now),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(mail_log::Column::MessageKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
