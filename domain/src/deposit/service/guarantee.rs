//! Electronic guarantees (电子保函): an issuer (a bank or guarantee company) signs a document that
//! stands in for the cash deposit. The platform verifies the Ed25519 signature over the document's
//! canonical JSON (RFC 8785) against the issuer's registered key, and accepts it where the procedure
//! allows it: government procurement (政府采购法实施条例 Art 33; docs/spec/rules.md "Money").

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use crate::deposit::store::{guarantee_issuers, guarantees, registrations};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{RegistrationId, TenderId};
use crate::money::{Currency, Money};
use crate::store::begin_write;
use crate::tender::TenderStatus;
use crate::tender::procedure::Kind;
use crate::tender::service::get;

/// An operator registers a guarantee issuer's Ed25519 public key (raw 32 bytes, base64). Its id is
/// the hex SHA-256 of the key.
pub async fn register_issuer(
    db: &DatabaseConnection,
    principal: &Principal,
    name: &str,
    public_key_b64: &str,
    now: DateTime<Utc>,
) -> DomainResult<String> {
    principal.require_operator()?;
    let name = crate::account::parse_name("name", name, 200)?;
    let raw = BASE64
        .decode(public_key_b64.trim())
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| {
            DomainError::invalid(
                "public_key",
                "`public_key` must be a raw Ed25519 public key (32 bytes), base64.",
                "`public_key` 须为 base64 编码的 Ed25519 公钥（32 字节）。",
            )
        })?;
    let id = hex::encode(ring::digest::digest(&ring::digest::SHA256, &raw));
    let txn = begin_write(db).await?;
    if guarantee_issuers::Entity::find_by_id(id.clone())
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(DomainError::Refused {
            code: ErrorCode::KeyExists,
            message: Text::new(
                "This issuer key is registered already.",
                "该出函机构公钥已登记。",
            ),
        });
    }
    guarantee_issuers::Entity::insert(guarantee_issuers::ActiveModel {
        id: Set(id.clone()),
        name: Set(name.clone()),
        public_key: Set(BASE64.encode(&raw)),
        created_at: Set(now),
        revoked_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::account(principal.account_id.as_str(), None),
            "guarantee_issuer.register",
            format!("issuer:{id}"),
        )
        .details(json!({"name": name})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// The fields of a guarantee document (others may be present and are signed too).
#[derive(Debug, Deserialize)]
struct GuaranteeFields {
    guarantee_no: String,
    issuer_id: String,
    registration_id: String,
    amount: String,
    currency: Option<String>,
    valid_until: DateTime<Utc>,
}

fn refused(en: impl Into<String>, zh: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        code: ErrorCode::GuaranteeInvalid,
        field: Some("document".to_owned()),
        message: Text::new(en, zh),
    }
}

/// Whether a tender's procedure takes guarantees instead of cash: government procurement of goods
/// and services, drugs and vaccines (docs/spec/rules.md "Money").
pub fn guarantees_allowed(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Goods | Kind::Services | Kind::Drugs | Kind::Vaccines
    )
}

/// A registered bidder presents a guarantee for its registration's deposit. It must be signed by a
/// registered issuer, name this registration, cover the deposit due, and stay valid through the
/// bid validity period. Accepted before the deadline, the deposit counts as `guarantee`.
pub async fn present_guarantee(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    registration: &RegistrationId,
    document: &Value,
    signature_b64: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let tender_id = tender.as_str();
    let tender = get(db, Some(principal), tender).await?;
    let registration = registrations::Entity::find_by_id(registration.as_str().to_owned())
        .one(db)
        .await?
        .filter(|r| r.tender_id == tender_id && principal.is_member_of(&r.organization_id))
        .ok_or(DomainError::NotFound)?;
    if !guarantees_allowed(tender.kind) {
        return Err(DomainError::Refused {
            code: ErrorCode::GuaranteeNotAllowed,
            message: Text::new(
                format!(
                    "A {} tender takes its deposit in cash; guarantees stand in for it in government procurement.",
                    tender.kind
                ),
                format!(
                    "{} 类项目须以现金缴纳保证金；保函仅适用于政府采购项目。",
                    tender.kind
                ),
            ),
        });
    }
    if tender.status != TenderStatus::Active || now >= tender.bid_deadline {
        return Err(DomainError::Refused {
            code: ErrorCode::DeadlinePassed,
            message: Text::new(
                "The bid deadline has passed: a guarantee no longer counts.",
                "投标截止时间已过，保函不再有效。",
            ),
        });
    }
    let fields: GuaranteeFields = serde_json::from_value(document.clone()).map_err(|e| {
        refused(
            format!("The guarantee document lacks a field or has a wrong one: {e}."),
            format!("保函文件缺少字段或字段有误：{e}。"),
        )
    })?;
    let issuer = guarantee_issuers::Entity::find_by_id(fields.issuer_id.clone())
        .one(db)
        .await?
        .filter(|i| i.revoked_at.is_none())
        .ok_or_else(|| {
            refused(
                "The guarantee's issuer is not registered with the platform.",
                "出函机构未在平台登记。",
            )
        })?;
    let key = BASE64
        .decode(&issuer.public_key)
        .map_err(DomainError::internal)?;
    let signature = BASE64
        .decode(signature_b64.trim())
        .map_err(|_| refused("The signature is not base64.", "签名不是 base64 编码。"))?;
    let message = to_canonical_string(document);
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
        .verify(message.as_bytes(), &signature)
        .map_err(|_| {
            refused(
                "The issuer's signature does not verify over the document's canonical JSON (RFC 8785).",
                "出函机构的签名与保函文件的规范化 JSON（RFC 8785）不符。",
            )
        })?;
    if fields.registration_id != registration.id {
        return Err(refused(
            "The guarantee names another registration.",
            "保函所载报名编号与本报名不符。",
        ));
    }
    let currency: Currency = fields
        .currency
        .as_deref()
        .unwrap_or("CNY")
        .parse()
        .map_err(|_| refused("Unknown currency.", "未知币种。"))?;
    let amount = Money::parse(&fields.amount, currency)
        .and_then(|m| m.minor_units())
        .map_err(|e| refused(format!("The amount {e}."), "保函金额无效。"))?;
    if amount < registration.deposit_due_fen {
        return Err(refused(
            format!(
                "The guarantee covers {} but the deposit due is {}.",
                fields.amount,
                crate::money::MoneyDto::from(Money::from_minor_units(
                    registration.deposit_due_fen,
                    currency
                ))
                .amount
            ),
            "保函金额低于应缴保证金。",
        ));
    }
    let needed = tender.bid_deadline + TimeDelta::days(i64::from(tender.bid_validity_days));
    if fields.valid_until < needed {
        return Err(refused(
            format!(
                "The guarantee must stay valid through the bid validity period, until {}.",
                crate::time::rfc3339(needed)
            ),
            format!(
                "保函有效期须覆盖投标有效期，至少至 {}。",
                crate::time::rfc3339(needed)
            ),
        ));
    }
    let txn = begin_write(db).await?;
    let inserted = guarantees::Entity::insert(guarantees::ActiveModel {
        id: Set(format!("gtee_{}", uuid::Uuid::now_v7().simple())),
        registration_id: Set(registration.id.clone()),
        issuer_id: Set(issuer.id.clone()),
        guarantee_no: Set(fields.guarantee_no.chars().take(128).collect()),
        amount_fen: Set(amount),
        valid_until: Set(fields.valid_until),
        document: Set(document.to_string()),
        signature: Set(BASE64.encode(&signature)),
        accepted_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(e) = inserted {
        if crate::store::violates(&e, crate::store::unique::GUARANTEE_PER_REGISTRATION) {
            return Err(DomainError::Refused {
                code: ErrorCode::GuaranteeExists,
                message: Text::new(
                    "This registration has a guarantee already.",
                    "该报名已提交保函。",
                ),
            });
        }
        return Err(e.into());
    }
    let mut entry = NewEntry::new(
        Chain::tender_sealed(tender_id),
        &Actor::account(principal.account_id.as_str(), None),
        "guarantee.accept",
        format!("registration:{}", registration.id),
    )
    .details(
        json!({"issuer_id": issuer.id, "guarantee_no": fields.guarantee_no, "amount_fen": amount}),
    );
    entry.withheld_until = Some(tender.bid_deadline);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Whether a registration had a guarantee accepted before `deadline`.
pub async fn has_guarantee(
    db: &impl sea_orm::ConnectionTrait,
    registration_id: &str,
    deadline: DateTime<Utc>,
) -> DomainResult<bool> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(guarantees::Entity::find()
        .filter(guarantees::Column::RegistrationId.eq(registration_id))
        .filter(guarantees::Column::AcceptedAt.lt(deadline))
        .one(db)
        .await?
        .is_some())
}
