//! Mandates: granted and revoked by the tenderer, listed for both sides and supervisors, and every
//! act an agency does under one recorded on the tender's chain.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::json;

use super::store::{self, agency_mandates};
use super::{Mandate, no_mandate};
use crate::account::{OrganizationKind, Principal};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode};
use crate::id::{MandateId, OrganizationId};
use crate::store::{begin_write, unique};

/// The tenderer `tenderer_org_id` (the caller must be its member) mandates `agency_org_id`.
/// 409 `mandate_exists` while a mandate between them is current.
pub async fn grant(
    db: &DatabaseConnection,
    principal: &Principal,
    tenderer: &OrganizationId,
    agency: &OrganizationId,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Mandate> {
    let (tenderer_org_id, agency_org_id) = (tenderer.as_str(), agency.as_str());
    require_tenderer_member(principal, tenderer_org_id)?;
    let agency = crate::account::store::queries::organization(db, agency_org_id).await?;
    if agency.is_none_or(|a| a.kind != OrganizationKind::Agency.as_str()) {
        return Err(DomainError::invalid(
            "agency_id",
            "`agency_id` must name an agency organization (招标代理机构) on the platform.",
            "`agency_id` 须为平台上的招标代理机构。",
        ));
    }
    let mandate = Mandate {
        id: MandateId::generate().to_string(),
        tenderer_org_id: tenderer_org_id.to_owned(),
        agency_org_id: agency_org_id.to_owned(),
        granted_by: principal.account_id.to_string(),
        granted_at: now,
        revoked_at: None,
    };
    let txn = begin_write(db).await?;
    let inserted = agency_mandates::Entity::insert(agency_mandates::ActiveModel {
        id: Set(mandate.id.clone()),
        tenderer_org_id: Set(mandate.tenderer_org_id.clone()),
        agency_org_id: Set(mandate.agency_org_id.clone()),
        granted_by: Set(mandate.granted_by.clone()),
        granted_at: Set(now),
        revoked_by: Set(None),
        revoked_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(e) = inserted {
        return Err(if crate::store::violates(&e, unique::CURRENT_MANDATE) {
            DomainError::refused(
                ErrorCode::MandateExists,
                "This agency already holds a current mandate from your organization.",
                "该代理机构已持有贵单位的有效委托。",
            )
        } else {
            e.into()
        });
    }
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::account(principal.account_id.as_str(), ip),
            "mandate.grant",
            format!("mandate:{}", mandate.id),
        )
        .details(json!({"tenderer_id": tenderer_org_id, "agency_id": agency_org_id})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(mandate)
}

/// The tenderer revokes a mandate it gave. From then on the agency gets 403 `no_mandate` on the
/// tenderer's tenders. Revoking a revoked mandate changes nothing.
pub async fn revoke(
    db: &DatabaseConnection,
    principal: &Principal,
    tenderer: &OrganizationId,
    mandate: &MandateId,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Mandate> {
    let (tenderer_org_id, mandate_id) = (tenderer.as_str(), mandate.as_str());
    require_tenderer_member(principal, tenderer_org_id)?;
    let txn = begin_write(db).await?;
    let mandate = store::by_id(&txn, mandate_id)
        .await?
        .filter(|m| m.tenderer_org_id == tenderer_org_id)
        .ok_or(DomainError::NotFound)?;
    if !mandate.is_current() {
        txn.rollback().await?;
        return Ok(mandate);
    }
    agency_mandates::Entity::update(agency_mandates::ActiveModel {
        id: Set(mandate.id.clone()),
        revoked_by: Set(Some(principal.account_id.to_string())),
        revoked_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::account(principal.account_id.as_str(), ip),
            "mandate.revoke",
            format!("mandate:{}", mandate.id),
        )
        .details(json!({"tenderer_id": tenderer_org_id, "agency_id": mandate.agency_org_id})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Mandate {
        revoked_at: Some(now),
        ..mandate
    })
}

/// The mandates an organization gave or holds: to its members, supervisors and operators.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    organization: &OrganizationId,
) -> DomainResult<Vec<Mandate>> {
    let org_id = organization.as_str();
    if !(principal.is_member_of(org_id) || principal.is_supervisor() || principal.is_operator) {
        return Err(DomainError::forbidden(
            "Only the organization's members, supervisors and operators see its mandates.",
            "只有本机构成员、监督人员和运营人员可以查看其委托。",
        ));
    }
    store::of_organization(db, org_id).await
}

/// Whom a tender is for: its tenderer, and the agency that runs it, if any.
#[derive(Debug, Clone, Copy)]
pub struct Parties<'a> {
    pub tender_id: &'a str,
    pub tenderer_org_id: &'a str,
    pub agency_org_id: Option<&'a str>,
}

/// When `principal` acts on a tender of `tenderer_org_id` as a member of its agency
/// `agency_org_id` (not of the tenderer itself): the current mandate it acts under, with the use
/// recorded on the tender's chain in the caller's transaction; 403 `no_mandate` without one.
/// `None` when the principal is the tenderer's own.
pub async fn act_under(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    tender: Parties<'_>,
    action: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Option<Mandate>> {
    let Parties {
        tender_id,
        tenderer_org_id,
        agency_org_id,
    } = tender;
    let Some(agency) = agency_org_id.filter(|a| principal.is_member_of(a)) else {
        return Ok(None);
    };
    if principal.is_member_of(tenderer_org_id) {
        return Ok(None);
    }
    let mandate = store::current(txn, tenderer_org_id, agency)
        .await?
        .ok_or_else(|| no_mandate(tenderer_org_id))?;
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(tender_id),
            &Actor::account(principal.account_id.as_str(), ip),
            "mandate.use",
            format!("mandate:{}", mandate.id),
        )
        .details(json!({"agency_id": agency, "action": action})),
        now,
    )
    .await?;
    Ok(Some(mandate))
}

fn require_tenderer_member(principal: &Principal, tenderer_org_id: &str) -> DomainResult<()> {
    let membership = principal.require_kind(&[OrganizationKind::Tenderer])?;
    if membership.organization_id.as_str() == tenderer_org_id {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            "Only the tenderer's own members grant and revoke its mandates.",
            "只有招标人本单位成员可以授予或撤销委托。",
        ))
    }
}
