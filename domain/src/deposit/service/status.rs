//! Deposit status as of the bid deadline, the deposits of a lot, and the collusion flags, each
//! shown only as API.md's "Who sees what" allows.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use super::ledger::{balance, postings_of_kind, postings_of_kinds};
use super::registration::Registration;
use crate::account::Principal;
use crate::deposit::DepositStatus;
use crate::deposit::accounts::deposit;
use crate::deposit::store::{deposit_flags, registrations};
use crate::error::{DomainError, DomainResult};
use crate::money::{Currency, Money};
use crate::tender::service::get;
use crate::tender::store::tenders;

/// The status of a registration's deposit as of `deadline`: credited before it, by server time,
/// less what went back before it (a withdrawn bid's refund, an overpayment's).
pub async fn status_at(
    db: &impl ConnectionTrait,
    registration: &registrations::Model,
    deadline: DateTime<Utc>,
) -> DomainResult<(DepositStatus, i64)> {
    // Payments are credits (negative), refunds debits: what is held is minus their sum.
    let credited: i64 = -postings_of_kinds(
        db,
        &deposit(&registration.account_no),
        &["payment", "refund"],
    )
    .await?
    .into_iter()
    .filter(|(at, _)| *at < deadline)
    .map(|(_, amount)| amount)
    .sum::<i64>();
    let status = if credited < registration.deposit_due_fen
        && super::guarantee::has_guarantee(db, &registration.id, deadline).await?
    {
        DepositStatus::Guarantee
    } else {
        DepositStatus::from_amounts(credited, registration.deposit_due_fen)
    };
    Ok((status, credited))
}

/// The deposit status of one registration as of its tender's bid deadline (the sealed-bids
/// opening record reads it).
pub async fn deposit_status(
    db: &DatabaseConnection,
    registration_id: &str,
) -> DomainResult<DepositStatus> {
    let registration = registrations::Entity::find_by_id(registration_id.to_owned())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let deadline = tenders::Entity::find_by_id(registration.tender_id.clone())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?
        .bid_deadline;
    Ok(status_at(db, &registration, deadline).await?.0)
}

/// A flag raised by a payment, for supervisors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub kind: String,
    pub lot_id: String,
    pub organization_id: String,
    pub account_no: String,
    pub payer_account: String,
    pub detail: String,
    pub raised_at: DateTime<Utc>,
}

impl From<deposit_flags::Model> for Flag {
    fn from(f: deposit_flags::Model) -> Self {
        Self {
            kind: f.kind,
            lot_id: f.lot_id,
            organization_id: f.organization_id,
            account_no: f.account_no,
            payer_account: f.payer_account,
            detail: f.detail,
            raised_at: f.created_at,
        }
    }
}

/// One registration's deposit in the deposits view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositLine {
    pub registration: Registration,
    pub status_at_deadline: DepositStatus,
    pub paid_by_deadline: Money,
    /// Everything credited so far, and what the platform still holds for the bidder.
    pub paid: Money,
    pub held: Money,
    /// Refunds booked (principal; interest on top), and the amount kept.
    pub refunded: Money,
    pub forfeited: Money,
    /// Supervisors only.
    pub flags: Vec<Flag>,
}

/// The deposits of a lot: to the tender's owners after the bid deadline, to supervisors after it
/// too (API.md "Who sees what": deposits paid are the bidder's own business until then).
pub async fn lot_deposits(
    db: &DatabaseConnection,
    principal: &Principal,
    tender_id: &str,
    lot_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<Vec<DepositLine>> {
    let tender = get(db, Some(principal), tender_id).await?;
    if !tender.lots.iter().any(|l| l.id == lot_id) {
        return Err(DomainError::NotFound);
    }
    let supervisor = principal.is_supervisor();
    if !(supervisor || tender.is_owned_by(principal)) {
        return Err(DomainError::forbidden(
            "Only the tender's owners and supervisors see its deposits.",
            "只有项目的招标人和监督人员可以查看保证金。",
        ));
    }
    if now < tender.bid_deadline {
        return Err(DomainError::forbidden(
            "Deposits are shown after the bid deadline (电子招标投标办法 Art 21).",
            "保证金情况在投标截止后方可查看（《电子招标投标办法》第二十一条）。",
        ));
    }
    let rows = registrations::Entity::find()
        .filter(registrations::Column::TenderId.eq(tender_id))
        .filter(registrations::Column::LotId.eq(lot_id))
        .order_by_asc(registrations::Column::Id)
        .all(db)
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let currency: Currency = row.currency.parse().map_err(DomainError::internal)?;
        let (status, by_deadline) = status_at(db, &row, tender.bid_deadline).await?;
        let paid: i64 = postings_of_kind(db, &deposit(&row.account_no), "payment")
            .await?
            .iter()
            .map(|(_, a)| -a)
            .sum();
        let held = -balance(db, &deposit(&row.account_no)).await?;
        let refunded: i64 = postings_of_kind(db, &deposit(&row.account_no), "refund")
            .await?
            .iter()
            .map(|(_, a)| *a)
            .sum();
        let forfeited: i64 = postings_of_kind(db, &deposit(&row.account_no), "forfeit")
            .await?
            .iter()
            .map(|(_, a)| *a)
            .sum();
        let flags = if supervisor {
            deposit_flags::Entity::find()
                .filter(deposit_flags::Column::AccountNo.eq(row.account_no.as_str()))
                .all(db)
                .await?
                .into_iter()
                .map(Flag::from)
                .collect()
        } else {
            Vec::new()
        };
        lines.push(DepositLine {
            status_at_deadline: status,
            paid_by_deadline: Money::from_minor_units(by_deadline, currency),
            paid: Money::from_minor_units(paid, currency),
            held: Money::from_minor_units(held, currency),
            refunded: Money::from_minor_units(refunded, currency),
            forfeited: Money::from_minor_units(forfeited, currency),
            flags,
            registration: Registration::from_row(row)?,
        });
    }
    Ok(lines)
}

/// The collusion flags of a tender: supervisors only, before and after the deadline (the flag, not
/// the bids).
pub async fn tender_flags(
    db: &DatabaseConnection,
    principal: &Principal,
    tender_id: &str,
) -> DomainResult<Vec<Flag>> {
    if !principal.is_supervisor() {
        return Err(DomainError::forbidden(
            "Only supervisors see payment flags.",
            "只有监督人员可以查看缴款预警。",
        ));
    }
    get(db, Some(principal), tender_id).await?;
    Ok(deposit_flags::Entity::find()
        .filter(deposit_flags::Column::TenderId.eq(tender_id))
        .order_by_asc(deposit_flags::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Flag::from)
        .collect())
}

/// The caller's own deposit status for a lot, now (a bidder sees its own before the deadline).
pub async fn own_deposit_status(
    db: &DatabaseConnection,
    principal: &Principal,
    tender_id: &str,
    lot_id: &str,
) -> DomainResult<DepositStatus> {
    let membership = principal.require_kind(&[crate::account::OrganizationKind::Bidder])?;
    let registration = registrations::Entity::find()
        .filter(registrations::Column::TenderId.eq(tender_id))
        .filter(registrations::Column::LotId.eq(lot_id))
        .filter(registrations::Column::OrganizationId.eq(membership.organization_id.as_str()))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    deposit_status(db, &registration.id).await
}
