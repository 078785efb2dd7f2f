//! Registration for a lot, with its deposit account, and the document fee account of a tender.

use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;

use tenderhall_model::state::{AccountKind, AccountStatus, RegistrationStatus};

use crate::account::{OrganizationKind, Principal};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::deposit::store::queries::active_registration;
use crate::deposit::store::{registrations, virtual_accounts};
use crate::deposit::{accounts, new_account_no};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{LotId, RegistrationId, TenderId};
use crate::money::{Currency, Money};
use crate::store::begin_write;
use crate::tender::TenderStatus;
use crate::tender::service::{Tender, get};

/// A virtual account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAccount {
    pub account_no: String,
    pub amount_due: Money,
}

/// A registration for a lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: String,
    pub tender_id: String,
    pub lot_id: String,
    pub organization_id: String,
    pub deposit_account: VirtualAccount,
    pub created_at: DateTime<Utc>,
}

impl Registration {
    pub(crate) fn from_row(r: registrations::Model) -> DomainResult<Self> {
        let currency: Currency = r.currency.parse().map_err(DomainError::internal)?;
        Ok(Self {
            deposit_account: VirtualAccount {
                account_no: r.account_no,
                amount_due: Money::from_minor_units(r.deposit_due_fen, currency),
            },
            id: r.id,
            tender_id: r.tender_id,
            lot_id: r.lot_id,
            organization_id: r.organization_id,
            created_at: r.created_at,
        })
    }
}

fn closed(t: &Tender) -> DomainError {
    DomainError::Refused {
        code: ErrorCode::DeadlinePassed,
        message: Text::new(
            format!(
                "The tender is {} and its bid deadline has passed: registration is closed.",
                t.status.as_str()
            ),
            format!(
                "该项目状态为 {}，投标截止时间已过，报名已结束。",
                t.status.as_str()
            ),
        ),
    }
}

/// A fresh account number nobody holds yet.
async fn fresh_account_no(txn: &impl ConnectionTrait) -> DomainResult<String> {
    let rng = SystemRandom::new();
    for _ in 0..8 {
        let candidate = new_account_no(&rng)?;
        if virtual_accounts::Entity::find_by_id(candidate.clone())
            .one(txn)
            .await?
            .is_none()
        {
            return Ok(candidate);
        }
    }
    Err(DomainError::internal("no free virtual account number"))
}

/// A bidder registers for a lot of an active tender before its deadline. Registering twice gives
/// back the first registration (and `false`). The registration is recorded on the tender's sealed
/// audit chain: who registered is secret until the deadline (电子招标投标办法 Art 21).
pub async fn register(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<(Registration, bool)> {
    let (tender_id, lot_id) = (tender.as_str(), lot.as_str());
    let membership = principal.require_kind(&[OrganizationKind::Bidder])?;
    let organization = membership.organization_id.to_string();
    let tender = get(db, Some(principal), tender).await?;
    let lot = tender
        .lots
        .iter()
        .find(|l| l.id == lot_id)
        .ok_or(DomainError::NotFound)?;
    let txn = begin_write(db).await?;
    if let Some(existing) = active_registration(&txn, tender_id, lot_id, &organization).await? {
        txn.rollback().await?;
        return Ok((Registration::from_row(existing)?, false));
    }
    if tender.status != TenderStatus::Active || now >= tender.bid_deadline {
        return Err(closed(&tender));
    }
    if lot.status.as_str() != "active" {
        return Err(DomainError::Refused {
            code: ErrorCode::LotNotActive,
            message: Text::new(
                format!(
                    "Lot `{lot_id}` is {}: it takes no registrations.",
                    lot.status.as_str()
                ),
                format!(
                    "标段 `{lot_id}` 状态为 {}，不接受报名。",
                    lot.status.as_str()
                ),
            ),
        });
    }
    let account_no = fresh_account_no(&txn).await?;
    let id = RegistrationId::generate().to_string();
    let due = lot.deposit.minor_units().map_err(DomainError::internal)?;
    let currency = lot.deposit.currency().code().to_owned();
    let row = registrations::Model {
        id: id.clone(),
        tender_id: tender_id.to_owned(),
        lot_id: lot_id.to_owned(),
        organization_id: organization.clone(),
        account_id: principal.account_id.to_string(),
        account_no: account_no.clone(),
        deposit_due_fen: due,
        currency: currency.clone(),
        status: RegistrationStatus::Active.as_str().to_owned(),
        created_at: now,
        withdrawn_at: None,
    };
    let inserted = registrations::Entity::insert(registrations::ActiveModel {
        id: Set(row.id.clone()),
        tender_id: Set(row.tender_id.clone()),
        lot_id: Set(row.lot_id.clone()),
        organization_id: Set(row.organization_id.clone()),
        account_id: Set(row.account_id.clone()),
        account_no: Set(row.account_no.clone()),
        deposit_due_fen: Set(due),
        currency: Set(currency.clone()),
        status: Set(row.status.clone()),
        created_at: Set(now),
        withdrawn_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(e) = inserted {
        // Another request of the same organization registered first (PostgreSQL): give its
        // registration back.
        if crate::store::violates(&e, crate::store::unique::ACTIVE_REGISTRATION) {
            drop(txn);
            let existing = active_registration(db, tender_id, lot_id, &organization)
                .await?
                .ok_or(DomainError::NotFound)?;
            return Ok((Registration::from_row(existing)?, false));
        }
        return Err(e.into());
    }
    virtual_accounts::Entity::insert(virtual_accounts::ActiveModel {
        account_no: Set(account_no.clone()),
        kind: Set(AccountKind::Deposit.as_str().to_owned()),
        tender_id: Set(tender_id.to_owned()),
        lot_id: Set(lot_id.to_owned()),
        organization_id: Set(organization.clone()),
        registration_id: Set(Some(id.clone())),
        amount_due_fen: Set(due),
        currency: Set(currency),
        status: Set(AccountStatus::Open.as_str().to_owned()),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    let mut entry = NewEntry::new(
        Chain::tender_sealed(tender_id),
        &actor,
        "registration.create",
        format!("registration:{id}"),
    )
    .details(json!({"lot_id": lot_id, "organization_id": organization, "account_no": account_no}));
    entry.withheld_until = Some(tender.bid_deadline);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok((Registration::from_row(row)?, true))
}

/// The organization's document fee account for a tender with a fee (created on first ask; the same
/// account afterwards). No lot registration is needed.
pub async fn fee_account(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<(VirtualAccount, bool)> {
    let tender_id = tender.as_str();
    let membership = principal.require_kind(&[OrganizationKind::Bidder])?;
    let organization = membership.organization_id.to_string();
    let tender = get(db, Some(principal), tender).await?;
    if !tender.document_fee.is_positive() {
        return Err(DomainError::Refused {
            code: ErrorCode::NoDocumentFee,
            message: Text::new(
                "This tender charges no document fee: download its documents directly.",
                "本项目不收取文件费，可直接下载招标文件。",
            ),
        });
    }
    let txn = begin_write(db).await?;
    let existing = virtual_accounts::Entity::find()
        .filter(virtual_accounts::Column::TenderId.eq(tender_id))
        .filter(virtual_accounts::Column::LotId.eq(""))
        .filter(virtual_accounts::Column::OrganizationId.eq(organization.as_str()))
        .filter(virtual_accounts::Column::Kind.eq(AccountKind::Fee.as_str()))
        .one(&txn)
        .await?;
    let currency = tender.document_fee.currency();
    if let Some(found) = existing {
        txn.rollback().await?;
        return Ok((
            VirtualAccount {
                account_no: found.account_no,
                amount_due: Money::from_minor_units(found.amount_due_fen, currency),
            },
            false,
        ));
    }
    if tender.status != TenderStatus::Active || now >= tender.bid_deadline {
        return Err(closed(&tender));
    }
    let account_no = fresh_account_no(&txn).await?;
    let due = tender
        .document_fee
        .minor_units()
        .map_err(DomainError::internal)?;
    virtual_accounts::Entity::insert(virtual_accounts::ActiveModel {
        account_no: Set(account_no.clone()),
        kind: Set(AccountKind::Fee.as_str().to_owned()),
        tender_id: Set(tender_id.to_owned()),
        lot_id: Set(String::new()),
        organization_id: Set(organization.clone()),
        registration_id: Set(None),
        amount_due_fen: Set(due),
        currency: Set(currency.code().to_owned()),
        status: Set(AccountStatus::Open.as_str().to_owned()),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    let mut entry = NewEntry::new(
        Chain::tender_sealed(tender_id),
        &actor,
        "fee_account.create",
        format!("account:{account_no}"),
    )
    .details(json!({"organization_id": organization}));
    entry.withheld_until = Some(tender.bid_deadline);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok((
        VirtualAccount {
            account_no,
            amount_due: tender.document_fee,
        },
        true,
    ))
}

/// Whether the caller may download the documents as far as the fee goes: a tender without a fee,
/// its owners, supervisors and operators always; others once their organization's fee account has
/// received the fee.
pub async fn fee_settled(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &Tender,
) -> DomainResult<bool> {
    if !tender.document_fee.is_positive()
        || tender.is_owned_by(principal)
        || principal.is_supervisor()
        || principal.is_operator
    {
        return Ok(true);
    }
    let Some(membership) = &principal.membership else {
        return Ok(false);
    };
    let Some(account) = virtual_accounts::Entity::find()
        .filter(virtual_accounts::Column::TenderId.eq(tender.id.as_str()))
        .filter(virtual_accounts::Column::LotId.eq(""))
        .filter(virtual_accounts::Column::OrganizationId.eq(membership.organization_id.as_str()))
        .filter(virtual_accounts::Column::Kind.eq(AccountKind::Fee.as_str()))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    // The fee is earned (moved to fee income) once the account has received all of it.
    let earned = super::ledger::postings_of_kind(
        db,
        &accounts::fee_account(&account.account_no),
        "fee_earned",
    )
    .await?;
    Ok(!earned.is_empty() || account.amount_due_fen == 0)
}

/// The basic bank account of the organization that holds a virtual account (the sandbox bank pays
/// from it).
pub async fn payer_of(db: &DatabaseConnection, account_no: &str) -> DomainResult<Option<String>> {
    let Some(account) = virtual_accounts::Entity::find_by_id(account_no.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    crate::account::store::queries::basic_account(db, &account.organization_id).await
}
