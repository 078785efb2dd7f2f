//! What an expert keeps current itself: the days it cannot sit, its declared relationships and its
//! signing key (docs/guide-expert.md "Keeping your profile current").

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult};
use crate::expert::store::{expert_relations, expert_unavailable, experts};
use crate::expert::{FORMER_EMPLOYER, RELATIVE_EMPLOYER};
use crate::store::begin_write;

use super::{Profile, own_expert_id, reload};
use crate::store::rows::Inserts;

/// The most days an expert may declare unavailable at once (a year ahead).
const MAX_UNAVAILABLE_DAYS: usize = 366;
/// The most relationships an expert may declare.
const MAX_RELATIONS: usize = 100;

/// Replaces the days the principal (an expert) cannot sit.
pub async fn set_unavailable(
    db: &DatabaseConnection,
    principal: &Principal,
    days: Vec<NaiveDate>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Profile> {
    let id = own_expert_id(principal)?.as_str().to_owned();
    let days: BTreeSet<NaiveDate> = days.into_iter().collect();
    if days.len() > MAX_UNAVAILABLE_DAYS {
        return Err(DomainError::invalid(
            "unavailable",
            format!("Declare at most {MAX_UNAVAILABLE_DAYS} days."),
            format!("最多声明 {MAX_UNAVAILABLE_DAYS} 天。"),
        ));
    }
    let txn = begin_write(db).await?;
    expert_unavailable::Entity::delete_many()
        .filter(expert_unavailable::Column::ExpertId.eq(id.clone()))
        .exec(&txn)
        .await?;
    let mut inserts = Inserts::new(&txn);
    inserts.add(
        days.iter()
            .map(|day| expert_unavailable::ActiveModel {
                expert_id: Set(id.clone()),
                day: Set(*day),
            })
            .collect(),
    )?;
    inserts.run(&txn).await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::account(principal.account_id.as_str(), ip),
            "expert.availability",
            format!("expert:{id}"),
        )
        .details(json!({"days": days.len()})),
        now,
    )
    .await?;
    let profile = reload(&txn, &id).await?;
    txn.commit().await?;
    Ok(profile)
}

/// Replaces the principal's declared relationships: former employers with the day it left each,
/// and the employers of close relatives (政府采购法实施条例 Art 9).
pub async fn set_relationships(
    db: &DatabaseConnection,
    principal: &Principal,
    former_employers: Vec<(String, NaiveDate)>,
    relatives_employers: Vec<String>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Profile> {
    let id = own_expert_id(principal)?.as_str().to_owned();
    if former_employers.len() + relatives_employers.len() > MAX_RELATIONS {
        return Err(DomainError::invalid(
            "former_employers",
            format!("Declare at most {MAX_RELATIONS} relationships."),
            format!("最多声明 {MAX_RELATIONS} 项关系。"),
        ));
    }
    let code = |field: &str, raw: &str| {
        let code = raw.trim().to_uppercase();
        if crate::account::credit_code_is_valid(&code) {
            Ok(code)
        } else {
            Err(DomainError::invalid(
                field,
                format!(
                    "`{raw}` is not a unified social credit code with a valid check character (GB 32100-2015)."
                ),
                format!("`{raw}` 不是校验位正确的统一社会信用代码（GB 32100-2015）。"),
            ))
        }
    };
    let mut rows = Vec::new();
    for (raw, ended) in &former_employers {
        if *ended > now.date_naive() {
            return Err(DomainError::invalid(
                "former_employers.ended_on",
                "The day you left a former employer cannot be in the future.",
                "离职日期不能晚于今天。",
            ));
        }
        rows.push((
            FORMER_EMPLOYER,
            code("former_employers.credit_code", raw)?,
            Some(*ended),
        ));
    }
    for raw in &relatives_employers {
        rows.push((RELATIVE_EMPLOYER, code("relatives_employers", raw)?, None));
    }
    let txn = begin_write(db).await?;
    expert_relations::Entity::delete_many()
        .filter(expert_relations::Column::ExpertId.eq(id.clone()))
        .exec(&txn)
        .await?;
    let mut inserts = Inserts::new(&txn);
    inserts.add(
        rows.into_iter()
            .map(
                |(kind, credit_code, ended_on)| expert_relations::ActiveModel {
                    expert_id: Set(id.clone()),
                    kind: Set(kind.to_owned()),
                    credit_code: Set(credit_code),
                    ended_on: Set(ended_on),
                    ..Default::default()
                },
            )
            .collect(),
    )?;
    inserts.run(&txn).await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::account(principal.account_id.as_str(), ip),
            "expert.relationships",
            format!("expert:{id}"),
        )
        .details(json!({
            "former_employers": former_employers.len(),
            "relatives_employers": relatives_employers.len(),
        })),
        now,
    )
    .await?;
    let profile = reload(&txn, &id).await?;
    txn.commit().await?;
    Ok(profile)
}

/// Registers the principal's Ed25519 public key (raw 32 bytes in base64): it verifies the scores
/// the expert signs. A new key replaces the old one.
pub async fn set_signing_key(
    db: &DatabaseConnection,
    principal: &Principal,
    public_key_base64: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Profile> {
    use base64::Engine as _;
    let id = own_expert_id(principal)?.as_str().to_owned();
    let raw = crate::keys::parse_ed25519_public_key(public_key_base64).map_err(|e| {
        DomainError::invalid(
            "public_key",
            format!("{e}: give the raw 32-byte Ed25519 public key in base64"),
            "public_key 必须是 Ed25519 原始公钥（32 字节）的 base64 编码",
        )
    })?;
    let key_id = crate::keys::key_id(&raw);
    let txn = begin_write(db).await?;
    experts::Entity::update_many()
        .col_expr(experts::Column::SigningKeyId, Some(key_id.clone()).into())
        .col_expr(
            experts::Column::SigningPublicKey,
            Some(base64::engine::general_purpose::STANDARD.encode(raw)).into(),
        )
        .col_expr(experts::Column::UpdatedAt, now.into())
        .filter(experts::Column::Id.eq(id.clone()))
        .exec(&txn)
        .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::account(principal.account_id.as_str(), ip),
            "expert.signing_key",
            format!("expert:{id}"),
        )
        .details(json!({"key_id": key_id})),
        now,
    )
    .await?;
    let profile = reload(&txn, &id).await?;
    txn.commit().await?;
    Ok(profile)
}
