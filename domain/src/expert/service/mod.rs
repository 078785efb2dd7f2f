//! Expert pool use cases: the operators' import ([`import`]) and management, and what experts keep
//! current themselves ([`own`]) (docs/guide-expert.md).

mod import;
mod own;

pub use self::import::{ImportReport, Importer, import_csv};
pub use self::own::{set_relationships, set_signing_key, set_unavailable};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use tenderhall_model::expert::ExpertStatus;

use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, Text};
use crate::expert::store::{expert_relations, expert_specialties, expert_unavailable, experts};
use crate::expert::{FORMER_EMPLOYER, RELATIVE_EMPLOYER};
use crate::id::ExpertId;
use crate::store::begin_write;

/// An expert's profile, as the expert and operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub expert_id: String,
    pub name: String,
    pub email: String,
    pub specialties: Vec<String>,
    pub region: String,
    pub employer_credit_code: String,
    pub title: String,
    pub years: i32,
    pub status: String,
    pub suspended_reason: Option<String>,
    pub suspended_until: Option<NaiveDate>,
    pub unavailable: Vec<NaiveDate>,
    pub former_employers: Vec<(String, NaiveDate)>,
    pub relatives_employers: Vec<String>,
    pub signing_key_id: Option<String>,
}

pub(super) async fn profile_of(
    db: &impl ConnectionTrait,
    e: experts::Model,
) -> DomainResult<Profile> {
    let specialties = expert_specialties::Entity::find()
        .filter(expert_specialties::Column::ExpertId.eq(e.id.clone()))
        .order_by_asc(expert_specialties::Column::Specialty)
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.specialty)
        .collect();
    let unavailable = expert_unavailable::Entity::find()
        .filter(expert_unavailable::Column::ExpertId.eq(e.id.clone()))
        .order_by_asc(expert_unavailable::Column::Day)
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.day)
        .collect();
    let mut former_employers = Vec::new();
    let mut relatives_employers = Vec::new();
    for r in expert_relations::Entity::find()
        .filter(expert_relations::Column::ExpertId.eq(e.id.clone()))
        .order_by_asc(expert_relations::Column::Id)
        .all(db)
        .await?
    {
        match (r.kind.as_str(), r.ended_on) {
            (FORMER_EMPLOYER, Some(ended)) => former_employers.push((r.credit_code, ended)),
            (RELATIVE_EMPLOYER, _) => relatives_employers.push(r.credit_code),
            _ => {}
        }
    }
    Ok(Profile {
        expert_id: e.id,
        name: e.name,
        email: e.email,
        specialties,
        region: e.region,
        employer_credit_code: e.employer_credit_code,
        title: e.title,
        years: e.years,
        status: e.status,
        suspended_reason: e.suspended_reason,
        suspended_until: e.suspended_until,
        unavailable,
        former_employers,
        relatives_employers,
        signing_key_id: e.signing_key_id,
    })
}

/// The expert's profile as the transaction `txn` sees it now (after a change to it).
pub(super) async fn reload(txn: &impl ConnectionTrait, id: &str) -> DomainResult<Profile> {
    let expert = experts::Entity::find_by_id(id.to_owned())
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    profile_of(txn, expert).await
}

/// The expert the principal is, or 403 `not_an_expert`.
pub(super) fn own_expert_id(principal: &Principal) -> DomainResult<&ExpertId> {
    principal.expert_id.as_ref().ok_or_else(|| {
        DomainError::Forbidden(Text::new(
            "Only an expert of the pool may do this.",
            "只有专家库中的专家可以执行此操作。",
        ))
    })
}

/// The principal's own profile.
pub async fn own_profile(db: &DatabaseConnection, principal: &Principal) -> DomainResult<Profile> {
    let id = own_expert_id(principal)?;
    let expert = experts::Entity::find_by_id(id.as_str().to_owned())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    profile_of(db, expert).await
}

/// An expert's profile, for operators.
pub async fn profile(
    db: &DatabaseConnection,
    principal: &Principal,
    id: &ExpertId,
) -> DomainResult<Profile> {
    principal.require_operator()?;
    let expert = experts::Entity::find_by_id(id.as_str().to_owned())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    profile_of(db, expert).await
}

/// A page of the pool, for operators, by id.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    after: Option<&str>,
    limit: u64,
) -> DomainResult<Vec<experts::Model>> {
    principal.require_operator()?;
    let mut query = experts::Entity::find().order_by_asc(experts::Column::Id);
    if let Some(after) = after {
        query = query.filter(experts::Column::Id.gt(after));
    }
    Ok(query.limit(limit).all(db).await?)
}

/// Suspends an expert until a day, with a reason (a penalty, 政府采购法实施条例 Art 9), or
/// reinstates it (`until: None`). Operators only.
pub async fn set_suspension(
    db: &DatabaseConnection,
    principal: &Principal,
    id: &ExpertId,
    suspension: Option<(String, NaiveDate)>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Profile> {
    principal.require_operator()?;
    if let Some((reason, _)) = &suspension
        && (reason.trim().is_empty() || reason.chars().count() > 500)
    {
        return Err(DomainError::invalid(
            "reason",
            "Give the reason of the suspension, at most 500 characters.",
            "请填写暂停原因，不超过 500 字。",
        ));
    }
    let txn = begin_write(db).await?;
    let expert = experts::Entity::find_by_id(id.as_str().to_owned())
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let (status, reason, until) = match &suspension {
        Some((reason, until)) => (
            ExpertStatus::Suspended,
            Some(reason.trim().to_owned()),
            Some(*until),
        ),
        None => (ExpertStatus::Active, None, None),
    };
    experts::Entity::update(experts::ActiveModel {
        id: Set(expert.id.clone()),
        status: Set(status.as_str().to_owned()),
        suspended_reason: Set(reason.clone()),
        suspended_until: Set(until),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::account(principal.account_id.as_str(), ip),
            if suspension.is_some() {
                "expert.suspend"
            } else {
                "expert.reinstate"
            },
            format!("expert:{}", expert.id),
        )
        .details(json!({"reason": reason, "until": until.map(|d| d.to_string())})),
        now,
    )
    .await?;
    let profile = reload(&txn, &expert.id).await?;
    txn.commit().await?;
    Ok(profile)
}
