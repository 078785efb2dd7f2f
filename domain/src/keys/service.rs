//! Key use cases: the platform key made once and shared by every node; bidders' signing keys.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use super::store::{platform_keys, signing_keys};
use super::{MasterKey, PlatformSigner, key_id, parse_ed25519_public_key};
use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode};
use crate::id::OrganizationId;
use crate::store::begin_write;

const RECEIPT_PURPOSE: &str = "receipt";

fn wrap_context(purpose: &str) -> String {
    format!("tenderhall/platform-key/v1|{purpose}")
}

/// Loads the platform signing key, creating it on first start. Every node with the same master key
/// gets the same key; the first node to insert wins and the others read its row.
pub async fn load_or_create_platform_signer(
    db: &DatabaseConnection,
    master: &MasterKey,
    now: DateTime<Utc>,
) -> DomainResult<PlatformSigner> {
    if let Some(row) = find_platform_key(db).await? {
        return open_platform_key(&row, master);
    }
    let pkcs8 = PlatformSigner::generate_pkcs8().map_err(DomainError::internal)?;
    let signer = PlatformSigner::from_pkcs8(&pkcs8).map_err(DomainError::internal)?;
    let wrapped = master
        .wrap(&pkcs8, &wrap_context(RECEIPT_PURPOSE))
        .map_err(DomainError::internal)?;
    let txn = begin_write(db).await?;
    let inserted = platform_keys::Entity::insert(platform_keys::ActiveModel {
        key_id: Set(signer.key_id().to_owned()),
        purpose: Set(RECEIPT_PURPOSE.to_owned()),
        algorithm: Set("Ed25519".to_owned()),
        public_key: Set(signer.public_key_base64()),
        wrapped_private_key: Set(wrapped),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await;
    if inserted.is_err() {
        // Another node created it first: use theirs.
        txn.rollback().await?;
        let row = find_platform_key(db).await?.ok_or_else(|| {
            DomainError::internal("the platform key vanished while being created")
        })?;
        return open_platform_key(&row, master);
    }
    let entry = NewEntry::new(
        Chain::platform(),
        &Actor::system(),
        "platform_key.create",
        format!("platform_key:{}", signer.key_id()),
    )
    .details(json!({"purpose": RECEIPT_PURPOSE, "algorithm": "Ed25519"}));
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(signer)
}

async fn find_platform_key(db: &DatabaseConnection) -> DomainResult<Option<platform_keys::Model>> {
    Ok(platform_keys::Entity::find()
        .filter(platform_keys::Column::Purpose.eq(RECEIPT_PURPOSE))
        .one(db)
        .await?)
}

fn open_platform_key(
    row: &platform_keys::Model,
    master: &MasterKey,
) -> DomainResult<PlatformSigner> {
    let pkcs8 = master
        .unwrap(&row.wrapped_private_key, &wrap_context(&row.purpose))
        .map_err(|_| {
            DomainError::internal(
                "the master key does not open the platform key stored in this database: \
             start with the master key this database was created with",
            )
        })?;
    PlatformSigner::from_pkcs8(&pkcs8).map_err(DomainError::internal)
}

/// Every platform public key ever used, by key id (to check old signatures).
pub async fn platform_public_keys(
    db: &DatabaseConnection,
) -> DomainResult<HashMap<String, Vec<u8>>> {
    let rows = platform_keys::Entity::find().all(db).await?;
    let mut keys = HashMap::new();
    for row in rows {
        let raw = BASE64
            .decode(&row.public_key)
            .map_err(DomainError::internal)?;
        keys.insert(row.key_id, raw);
    }
    Ok(keys)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub key_id: String,
    pub organization_id: String,
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<signing_keys::Model> for SigningKey {
    fn from(m: signing_keys::Model) -> Self {
        Self {
            key_id: m.key_id,
            organization_id: m.organization_id,
            public_key: m.public_key,
            created_at: m.created_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// Registers a bidder's Ed25519 public key (docs/spec/envelope.md "Keys"). Only members of a verified
/// organization may; the same key cannot serve two organizations.
pub async fn register_signing_key(
    db: &DatabaseConnection,
    principal: &Principal,
    organization: &OrganizationId,
    public_key_base64: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<SigningKey> {
    let org_id = organization.as_str();
    principal.require_member_of_verified(org_id)?;
    let raw = parse_ed25519_public_key(public_key_base64).map_err(|e| {
        DomainError::invalid(
            "public_key",
            format!("{e}: give the raw 32-byte Ed25519 public key in base64"),
            "public_key 必须是 Ed25519 原始公钥（32 字节）的 base64 编码",
        )
    })?;
    let id = key_id(&raw);
    let txn = begin_write(db).await?;
    if signing_keys::Entity::find_by_id(id.clone())
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(DomainError::Refused {
            code: ErrorCode::KeyExists,
            message: crate::error::Text::new(
                "This public key is already registered.",
                "该公钥已经登记过。",
            ),
        });
    }
    let model = signing_keys::Model {
        key_id: id.clone(),
        organization_id: org_id.to_owned(),
        public_key: BASE64.encode(raw),
        created_at: now,
        created_by: principal.account_id.to_string(),
        revoked_at: None,
    };
    signing_keys::Entity::insert(signing_keys::ActiveModel {
        key_id: Set(model.key_id.clone()),
        organization_id: Set(model.organization_id.clone()),
        public_key: Set(model.public_key.clone()),
        created_at: Set(model.created_at),
        created_by: Set(model.created_by.clone()),
        revoked_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &actor,
            "signing_key.register",
            format!("signing_key:{id}"),
        )
        .details(json!({"organization_id": org_id})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(model.into())
}

/// Revokes a signing key: it signs no new bid, but bids it signed earlier still open. `key_id` is
/// the key's SHA-256 in hex, a digest rather than an id the platform gives, so it stays a string.
pub async fn revoke_signing_key(
    db: &DatabaseConnection,
    principal: &Principal,
    organization: &OrganizationId,
    key_id: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let org_id = organization.as_str();
    principal.require_member(org_id)?;
    let txn = begin_write(db).await?;
    let key = signing_keys::Entity::find_by_id(key_id.to_owned())
        .one(&txn)
        .await?
        .filter(|k| k.organization_id == org_id)
        .ok_or(DomainError::NotFound)?;
    if key.revoked_at.is_some() {
        txn.rollback().await?;
        return Ok(());
    }
    signing_keys::Entity::update(signing_keys::ActiveModel {
        key_id: Set(key.key_id.clone()),
        revoked_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &actor,
            "signing_key.revoke",
            format!("signing_key:{key_id}"),
        )
        .details(json!({"organization_id": org_id})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn list_signing_keys(
    db: &DatabaseConnection,
    principal: &Principal,
    organization: &OrganizationId,
) -> DomainResult<Vec<SigningKey>> {
    let org_id = organization.as_str();
    principal.require_member(org_id)?;
    Ok(signing_keys::Entity::find()
        .filter(signing_keys::Column::OrganizationId.eq(org_id))
        .order_by_asc(signing_keys::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(SigningKey::from)
        .collect())
}
