//! The events that refund or keep deposits: a withdrawn registration, a cancelled tender or failed
//! lot, the award notice, the signed contract, a revoked bid or a refusal to sign (docs/spec/rules.md "Money").

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use super::refund::{RefundReason, book_forfeit, book_refund, refund_due_by};

use tenderhall_model::state::{AccountStatus, RegistrationStatus};

use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::deposit::store::{registrations, virtual_accounts};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{LotId, RegistrationId, TenderId};
use crate::store::begin_write;
use crate::tender::TenderStatus;
use crate::tender::service::get;
use crate::tender::store::queries as tender_queries;

/// Refunds every open account of a tender (deposits and fees) or of one lot's deposits, in the
/// caller's transaction: a cancelled tender (实施条例 Art 31) or a failed lot.
pub async fn refund_all(
    txn: &impl ConnectionTrait,
    tender: &TenderId,
    lot: Option<&LotId>,
    reason: RefundReason,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let tender_id = tender.as_str();
    let accelerator = tender_queries::by_id(txn, tender_id)
        .await?
        .map(|t| u32::try_from(t.accelerator).unwrap_or(1))
        .ok_or(DomainError::NotFound)?;
    let due_by = refund_due_by(txn, reason, false, accelerator, now).await?;
    let mut query = virtual_accounts::Entity::find()
        .filter(virtual_accounts::Column::TenderId.eq(tender_id))
        .filter(virtual_accounts::Column::Status.eq(AccountStatus::Open.as_str()));
    if let Some(lot) = lot {
        query = query.filter(virtual_accounts::Column::LotId.eq(lot.as_str()));
    }
    let mut booked = Vec::new();
    for account in query
        .order_by_asc(virtual_accounts::Column::AccountNo)
        .all(txn)
        .await?
    {
        if let Some(id) = book_refund(txn, &account, reason, due_by, rate, now).await? {
            booked.push(id);
        }
    }
    Ok(booked)
}

/// A bidder withdraws its registration before the deadline: the deposit comes back within 5 days
/// (实施条例 Art 35).
pub async fn withdraw_registration(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    registration: &RegistrationId,
    rate: Decimal,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Option<String>> {
    let (tender_id, registration_id) = (tender.as_str(), registration.as_str());
    let tender = get(db, Some(principal), tender).await?;
    let txn = begin_write(db).await?;
    // The tender's row lock orders this against a bid being recorded (which takes it too).
    tender_queries::lock(&txn, tender_id).await?;
    let registration = registrations::Entity::find_by_id(registration_id.to_owned())
        .one(&txn)
        .await?
        .filter(|r| r.tender_id == tender_id && principal.is_member_of(&r.organization_id))
        .ok_or(DomainError::NotFound)?;
    if registration.status != RegistrationStatus::Active.as_str() {
        return Err(DomainError::Refused {
            code: ErrorCode::AlreadyWithdrawn,
            message: Text::new(
                "This registration has been withdrawn already.",
                "该报名已撤回。",
            ),
        });
    }
    if tender.status != TenderStatus::Active || now >= tender.bid_deadline {
        return Err(DomainError::Refused {
            code: ErrorCode::DeadlinePassed,
            message: Text::new(
                "The bid deadline has passed: a registration can no longer be withdrawn (a bid may be revoked, forfeiting its deposit).",
                "投标截止时间已过，不能再撤回报名（撤销投标将没收保证金）。",
            ),
        });
    }
    let has_bid = crate::bid::store::queries::has_current_bid(
        &txn,
        tender_id,
        &registration.lot_id,
        &registration.organization_id,
    )
    .await?;
    if has_bid {
        // The bid's own withdrawal gives the signed withdrawal receipt the bidder needs.
        return Err(DomainError::Refused {
            code: ErrorCode::BidCurrent,
            message: Text::new(
                "Your organization has a bid for this lot: withdraw the bid first (DELETE .../bid), then the registration.",
                "贵单位在该标段有投标文件：请先撤回投标（DELETE .../bid），再撤回报名。",
            ),
        });
    }
    registrations::Entity::update(registrations::ActiveModel {
        id: Set(registration.id.clone()),
        status: Set(RegistrationStatus::Withdrawn.as_str().to_owned()),
        withdrawn_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let account = virtual_accounts::Entity::find_by_id(registration.account_no.clone())
        .one(&txn)
        .await?
        .ok_or_else(|| DomainError::internal("registration without its account"))?;
    let due_by = refund_due_by(
        &txn,
        RefundReason::Withdrawn,
        false,
        tender.accelerator,
        now,
    )
    .await?;
    let refund = book_refund(&txn, &account, RefundReason::Withdrawn, due_by, rate, now).await?;
    // Who withdrew is as secret as who registered, until the deadline.
    let actor = Actor::account(principal.account_id.as_str(), ip);
    let mut entry = NewEntry::new(
        Chain::tender_sealed(tender_id),
        &actor,
        "registration.withdraw",
        format!("registration:{}", registration.id),
    )
    .details(json!({"refund_id": refund}));
    entry.withheld_until = Some(tender.bid_deadline);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(refund)
}

/// The active registration of a bidder for a lot, if any.
async fn registration_of(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    lot_id: &str,
    organization_id: &str,
) -> DomainResult<Option<registrations::Model>> {
    crate::deposit::store::queries::active_registration(txn, tender_id, lot_id, organization_id)
        .await
}

/// A bidder withdrew its bid before the deadline: the deposit paid so far goes back within 5 days
/// of the notice (实施条例 Art 35), in the caller's transaction. The registration stays, so the
/// bidder may bid again (see [`reopen_for_bid`]). Returns the refund's id, if anything was held.
pub async fn refund_withdrawn_bid(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    lot_id: &str,
    organization_id: &str,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Option<String>> {
    let Some(registration) = registration_of(txn, tender_id, lot_id, organization_id).await? else {
        return Ok(None);
    };
    let Some(account) = virtual_accounts::Entity::find_by_id(registration.account_no)
        .one(txn)
        .await?
        .filter(|a| a.status == AccountStatus::Open.as_str())
    else {
        return Ok(None);
    };
    let accelerator = tender_queries::accelerator(txn, tender_id).await?;
    let due_by = refund_due_by(txn, RefundReason::Withdrawn, false, accelerator, now).await?;
    book_refund(txn, &account, RefundReason::Withdrawn, due_by, rate, now).await
}

/// A bid after a withdrawal: the deposit account that the withdrawal's refund closed takes payments
/// again, so the new bid can be secured (what was refunded no longer counts: see `status_at`).
/// False when the bidder has no active registration for the lot (withdrawn during the upload).
pub async fn reopen_for_bid(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    lot_id: &str,
    organization_id: &str,
) -> DomainResult<bool> {
    let Some(registration) = registration_of(txn, tender_id, lot_id, organization_id).await? else {
        return Ok(false);
    };
    virtual_accounts::Entity::update_many()
        .col_expr(
            virtual_accounts::Column::Status,
            sea_orm::sea_query::Expr::value(AccountStatus::Open.as_str()),
        )
        .filter(virtual_accounts::Column::AccountNo.eq(registration.account_no))
        .filter(virtual_accounts::Column::Status.eq(AccountStatus::Closed.as_str()))
        .exec(txn)
        .await?;
    Ok(true)
}

/// After the award notice (government procurement): the losers' deposits, within 5 working days
/// (87号令 Art 38), in a transaction of its own.
pub async fn refund_losers_after_award(
    db: &DatabaseConnection,
    tender: &TenderId,
    lot: &LotId,
    winner: &RegistrationId,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let txn = begin_write(db).await?;
    let booked = refund_losers_after_award_in(&txn, tender, lot, winner, rate, now).await?;
    txn.commit().await?;
    Ok(booked)
}

/// After the contract is signed: the winner's deposit, and (outside government procurement, where
/// they waited for the contract too) the losers', within 5 days, with interest (实施条例 Art 57;
/// 87号令 Art 38), in a transaction of its own.
pub async fn refund_after_contract(
    db: &DatabaseConnection,
    tender: &TenderId,
    lot: &LotId,
    winner: &RegistrationId,
    government_procurement: bool,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let txn = begin_write(db).await?;
    let booked =
        refund_after_contract_in(&txn, tender, lot, winner, government_procurement, rate, now)
            .await?;
    txn.commit().await?;
    Ok(booked)
}

/// Whose deposits a settlement returns, and under which timing rule.
struct Settle<'a> {
    winner: &'a str,
    include_winner: bool,
    include_losers: bool,
    government_procurement: bool,
}

/// The losers' deposits after the award notice (government procurement, 87号令 Art 38), in the
/// award's own transaction.
pub async fn refund_losers_after_award_in(
    txn: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
    winner: &RegistrationId,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let settle = Settle {
        winner: winner.as_str(),
        include_winner: false,
        include_losers: true,
        government_procurement: true,
    };
    settle_lot_in(txn, tender.as_str(), lot.as_str(), settle, rate, now).await
}

/// The deposits due back once the contract is signed, in the contract's own transaction.
pub async fn refund_after_contract_in(
    txn: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
    winner: &RegistrationId,
    government_procurement: bool,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let settle = Settle {
        winner: winner.as_str(),
        include_winner: true,
        include_losers: !government_procurement,
        government_procurement,
    };
    settle_lot_in(txn, tender.as_str(), lot.as_str(), settle, rate, now).await
}

async fn settle_lot_in(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    lot_id: &str,
    settle: Settle<'_>,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let accelerator = tender_queries::by_id(txn, tender_id)
        .await?
        .map(|t| u32::try_from(t.accelerator).unwrap_or(1))
        .ok_or(DomainError::NotFound)?;
    let mut booked = Vec::new();
    let rows = registrations::Entity::find()
        .filter(registrations::Column::TenderId.eq(tender_id))
        .filter(registrations::Column::LotId.eq(lot_id))
        .order_by_asc(registrations::Column::Id)
        .all(txn)
        .await?;
    for registration in rows {
        let is_winner = settle.winner == registration.id;
        if (is_winner && !settle.include_winner) || (!is_winner && !settle.include_losers) {
            continue;
        }
        let Some(account) = virtual_accounts::Entity::find_by_id(registration.account_no.clone())
            .one(txn)
            .await?
            .filter(|a| a.status == AccountStatus::Open.as_str())
        else {
            continue;
        };
        let reason = if is_winner {
            RefundReason::Won
        } else {
            RefundReason::Lost
        };
        let due_by =
            refund_due_by(txn, reason, settle.government_procurement, accelerator, now).await?;
        if let Some(id) = book_refund(txn, &account, reason, due_by, rate, now).await? {
            booked.push(id);
        }
    }
    Ok(booked)
}

/// An auction's close (docs/auctions.md "The reserve and the result"), in its transaction: the
/// winner's deposit is kept toward the price, every other bidder's goes back within 5 days with
/// interest, like a losing bidder's (实施条例 Art 57). `winner` is the winning registration, if the lot sold.
pub async fn settle_auction_in(
    txn: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
    winner: Option<&str>,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<(i64, Vec<String>)> {
    let accelerator = tender_queries::by_id(txn, tender.as_str())
        .await?
        .map(|t| u32::try_from(t.accelerator).unwrap_or(1))
        .ok_or(DomainError::NotFound)?;
    let due_by = refund_due_by(txn, RefundReason::Lost, false, accelerator, now).await?;
    let rows = registrations::Entity::find()
        .filter(registrations::Column::TenderId.eq(tender.as_str()))
        .filter(registrations::Column::LotId.eq(lot.as_str()))
        .order_by_asc(registrations::Column::Id)
        .all(txn)
        .await?;
    let (mut applied, mut booked) = (0, Vec::new());
    for registration in rows {
        let Some(account) = virtual_accounts::Entity::find_by_id(registration.account_no.clone())
            .one(txn)
            .await?
            .filter(|a| a.status == AccountStatus::Open.as_str())
        else {
            continue;
        };
        if winner == Some(registration.id.as_str()) {
            applied = super::refund::book_applied_to_price(txn, &account, now).await?;
        } else if let Some(id) =
            book_refund(txn, &account, RefundReason::Lost, due_by, rate, now).await?
        {
            booked.push(id);
        }
    }
    Ok((applied, booked))
}

/// Keeps a registration's deposit: its bid revoked after the deadline (实施条例 Art 35), or the
/// winner refusing to sign (实施条例 Art 74). Returns the amount kept.
pub async fn forfeit_registration(
    db: &DatabaseConnection,
    registration: &RegistrationId,
    reason: &str,
    now: DateTime<Utc>,
) -> DomainResult<i64> {
    let txn = begin_write(db).await?;
    let kept = forfeit_registration_in(&txn, registration.as_str(), reason, now).await?;
    txn.commit().await?;
    Ok(kept)
}

/// The same inside the caller's transaction (a bid revoked after the deadline forfeits with it).
pub async fn forfeit_registration_in(
    txn: &impl ConnectionTrait,
    registration_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> DomainResult<i64> {
    let registration = registrations::Entity::find_by_id(registration_id.to_owned())
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let Some(account) = virtual_accounts::Entity::find_by_id(registration.account_no.clone())
        .one(txn)
        .await?
        .filter(|a| a.status == AccountStatus::Open.as_str())
    else {
        return Ok(0);
    };
    book_forfeit(txn, &account, reason, now).await
}
