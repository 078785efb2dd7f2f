//! Deposit status as of the bid deadline, the deposits of a lot, and the collusion flags, each
//! shown only as docs/spec/visibility.md allows.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::ledger::{balance, postings_of_kind, postings_of_kinds};
use super::registration::Registration;
use crate::account::Principal;
use crate::deposit::DepositStatus;
use crate::deposit::accounts::deposit;
use crate::deposit::store::queries::active_registration;
use crate::deposit::store::{deposit_flags, registrations};
use crate::error::{DomainError, DomainResult};
use crate::id::{LotId, RegistrationId, TenderId};
use crate::money::{Currency, Money};
use crate::tender::service::get;

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
    registration: &RegistrationId,
) -> DomainResult<DepositStatus> {
    status_of(db, registration.as_str()).await
}

async fn status_of(db: &DatabaseConnection, registration_id: &str) -> DomainResult<DepositStatus> {
    let registration = registrations::Entity::find_by_id(registration_id.to_owned())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let deadline = crate::tender::store::queries::bid_deadline(db, &registration.tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
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
/// too (docs/spec/visibility.md: deposits paid are the bidder's own business until then).
pub async fn lot_deposits(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    now: DateTime<Utc>,
) -> DomainResult<Vec<DepositLine>> {
    let (tender_id, lot_id) = (tender.as_str(), lot.as_str());
    let tender = get(db, Some(principal), tender).await?;
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
    // An auction's bidders stay pseudonyms until its result: who paid would name them.
    if now < tender.bid_deadline
        || crate::auction::awaiting_result(db, &TenderId::parse(tender_id)?).await?
    {
        return Err(DomainError::forbidden(
            "Deposits are shown after the bid deadline (电子招标投标办法 Art 21); for an auction, after its result.",
            "保证金情况在投标截止后方可查看（《电子招标投标办法》第二十一条）；竞价项目在竞价结果产生后方可查看。",
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

/// Every collusion flag of a tender, whole: for the platform's own work and the tests. Supervisors
/// see them through [`tender_flags`].
pub async fn flags_of(db: &impl ConnectionTrait, tender: &TenderId) -> DomainResult<Vec<Flag>> {
    Ok(deposit_flags::Entity::find()
        .filter(deposit_flags::Column::TenderId.eq(tender.as_str()))
        .order_by_asc(deposit_flags::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Flag::from)
        .collect())
}

/// A collusion flag as a supervisor sees it: `concerns` is `None` before the bid deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagView {
    pub kind: String,
    pub lot_id: String,
    /// How many flags of this kind the lot has (1 once each flag is shown on its own).
    pub count: usize,
    pub concerns: Option<Flag>,
}

/// What supervisors see of a tender's flags (实施条例 Art 26, 40 raise them; docs/spec/visibility.md decides
/// who sees what): before the bid deadline only each kind and lot with its count, since who was
/// flagged would tell who registered and paid (电子招标投标办法 Art 21); from the deadline on, each
/// flag with the organization, accounts and payer it concerns.
pub fn visible_flags(flags: Vec<Flag>, sealed: bool) -> Vec<FlagView> {
    if !sealed {
        return flags
            .into_iter()
            .map(|f| FlagView {
                kind: f.kind.clone(),
                lot_id: f.lot_id.clone(),
                count: 1,
                concerns: Some(f),
            })
            .collect();
    }
    let mut counts = std::collections::BTreeMap::<(String, String), usize>::new();
    for f in flags {
        *counts.entry((f.lot_id, f.kind)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((lot_id, kind), count)| FlagView {
            kind,
            lot_id,
            count,
            concerns: None,
        })
        .collect()
}

/// Who sees payment flags: supervisors alone, refused before anything is read. The route asks it
/// before it parses the tender's id, so anyone else is refused (403) whatever id they name.
pub fn require_flag_reader(principal: &Principal) -> DomainResult<()> {
    if principal.is_supervisor() {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            "Only supervisors see payment flags.",
            "只有监督人员可以查看缴款预警。",
        ))
    }
}

/// The collusion flags of a tender: supervisors only, before and after the deadline (the flag, not
/// the bids), shown as [`visible_flags`] allows at `now`.
pub async fn tender_flags(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    now: DateTime<Utc>,
) -> DomainResult<Vec<FlagView>> {
    require_flag_reader(principal)?;
    let deadline = get(db, Some(principal), tender).await?.bid_deadline;
    let flags = flags_of(db, tender).await?;
    Ok(visible_flags(flags, now < deadline))
}

/// The caller's own deposit status for a lot, now (a bidder sees its own before the deadline).
pub async fn own_deposit_status(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<DepositStatus> {
    let membership = principal.require_kind(&[crate::account::OrganizationKind::Bidder])?;
    let registration = active_registration(
        db,
        tender.as_str(),
        lot.as_str(),
        membership.organization_id.as_str(),
    )
    .await?
    .ok_or(DomainError::NotFound)?;
    status_of(db, &registration.id).await
}

/// A bidder's own registration with its deposit so far: from registration on, not only once it has
/// bid (its own business is never secret from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnRegistration {
    pub registration: Registration,
    /// `active` or `withdrawn`.
    pub status: String,
    /// As of the bid deadline: before it, what has been credited so far.
    pub deposit_status: DepositStatus,
    pub paid: Money,
    pub held: Money,
}

/// The caller's registration `registration_id` for a lot (404 for anybody else's).
pub async fn own_registration(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    registration: &RegistrationId,
) -> DomainResult<OwnRegistration> {
    let (tender_id, lot_id) = (tender.as_str(), lot.as_str());
    let row = registrations::Entity::find_by_id(registration.as_str().to_owned())
        .one(db)
        .await?
        .filter(|r| {
            r.tender_id == tender_id
                && r.lot_id == lot_id
                && principal.is_member_of(&r.organization_id)
        })
        .ok_or(DomainError::NotFound)?;
    summarize(db, row).await
}

/// Every registration of the caller's organization, newest first (at most 200): the bidder's
/// workbench.
pub async fn own_registrations(
    db: &DatabaseConnection,
    principal: &Principal,
) -> DomainResult<Vec<OwnRegistration>> {
    let Some(membership) = principal.membership.as_ref() else {
        return Ok(Vec::new());
    };
    let rows = registrations::Entity::find()
        .filter(registrations::Column::OrganizationId.eq(membership.organization_id.as_str()))
        .order_by_desc(registrations::Column::CreatedAt)
        .limit(200)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(summarize(db, row).await?);
    }
    Ok(out)
}

/// A registration with its deposit as of the deadline (before it: so far).
async fn summarize(
    db: &DatabaseConnection,
    row: registrations::Model,
) -> DomainResult<OwnRegistration> {
    let deadline = crate::tender::store::queries::bid_deadline(db, &row.tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let currency: Currency = row.currency.parse().map_err(DomainError::internal)?;
    let (deposit_status, _) = status_at(db, &row, deadline).await?;
    let paid: i64 = postings_of_kind(db, &deposit(&row.account_no), "payment")
        .await?
        .iter()
        .map(|(_, a)| -a)
        .sum();
    let held = -balance(db, &deposit(&row.account_no)).await?;
    Ok(OwnRegistration {
        status: row.status.clone(),
        deposit_status,
        paid: Money::from_minor_units(paid, currency),
        held: Money::from_minor_units(held, currency),
        registration: Registration::from_row(row)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(kind: &str, lot: &str, org: &str) -> Flag {
        Flag {
            kind: kind.to_owned(),
            lot_id: lot.to_owned(),
            organization_id: org.to_owned(),
            account_no: format!("acct-{org}"),
            payer_account: "6228480000000001".to_owned(),
            detail: String::new(),
            raised_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn art_21_before_the_deadline_a_flag_shows_its_kind_lot_and_count_only() {
        let flags = vec![
            flag("shared_payer", "1", "org_a"),
            flag("shared_payer", "1", "org_b"),
            flag("payer_mismatch", "1", "org_a"),
        ];
        let sealed = visible_flags(flags.clone(), true);
        assert_eq!(sealed.len(), 2);
        assert!(sealed.iter().all(|f| f.concerns.is_none()));
        let shared = sealed.iter().find(|f| f.kind == "shared_payer");
        assert_eq!(shared.map(|f| (f.lot_id.as_str(), f.count)), Some(("1", 2)));
        let open = visible_flags(flags, false);
        assert_eq!(open.len(), 3);
        assert_eq!(
            open[1]
                .concerns
                .as_ref()
                .map(|f| f.organization_id.as_str()),
            Some("org_b")
        );
    }
}
