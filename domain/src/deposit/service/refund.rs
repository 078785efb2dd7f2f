//! Refunds and forfeits (RULES.md "Money"). A refund is booked (the money moves from what the
//! platform holds for the bidder, plus interest, to a pending refund), instructed to the bank by a
//! job through the `BankGateway`, and settled when the bank confirms it; a failed refund is sent
//! again and shown to operators, never forgotten. A forfeit moves the deposit to the tenderer.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use super::ledger::{balance, post, postings_of_kind};
use crate::account::Principal;
use crate::account::store::organizations;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::deposit::accounts::{BANK, INTEREST, deposit, fee_account, forfeited, refunds_pending};
use crate::deposit::store::{refunds, registrations, virtual_accounts};
use crate::error::{DomainError, DomainResult, Text};
use crate::jobs::{NewJob, service as jobs};
use crate::money::Currency;
use crate::ports::{BankGateway, RefundInstruction};
use crate::store::begin_write;
use crate::tender::TenderStatus;
use crate::tender::procedure::Period;
use crate::tender::service::get;
use crate::tender::store::tenders;
use crate::tender::{MAX_ACCELERATOR, earliest_deadline};

/// The job that sends a booked refund to the bank.
pub const REFUND_JOB: &str = "deposit.refund";

/// Why money goes back (or is kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundReason {
    /// Registration or bid withdrawn before the deadline: within 5 days (实施条例 Art 35).
    Withdrawn,
    /// The tender was terminated: fees, deposits and interest (实施条例 Art 31).
    Cancelled,
    /// The lot failed (too few bids): the deposits go back.
    LotFailed,
    /// A losing bidder: within 5 days of the contract (实施条例 Art 57), or for government
    /// procurement within 5 working days of the award notice (87号令 Art 38).
    Lost,
    /// The winner, within 5 days (GP: 5 working days) of signing the contract.
    Won,
    /// More than was due was paid.
    Overpaid,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Withdrawn => "withdrawn",
            Self::Cancelled => "cancelled",
            Self::LotFailed => "lot_failed",
            Self::Lost => "lost",
            Self::Won => "won",
            Self::Overpaid => "overpaid",
        }
    }

    /// The legal time to refund in, counted from the event (RULES.md "Money").
    pub fn period(self, government_procurement: bool) -> Period {
        match (self, government_procurement) {
            (Self::Lost | Self::Won, true) => Period::WorkingDays(5),
            _ => Period::Days(5),
        }
    }
}

/// The refund deadline for an event at `at` in a tender run with `accelerator`.
pub async fn refund_due_by(
    txn: &impl ConnectionTrait,
    reason: RefundReason,
    government_procurement: bool,
    accelerator: u32,
    at: DateTime<Utc>,
) -> DomainResult<DateTime<Utc>> {
    let period = reason.period(government_procurement);
    // Only working days need the holiday calendar.
    let calendar = match period {
        Period::WorkingDays(_) => crate::tender::service::load_calendar(txn).await?,
        Period::Days(_) => crate::tender::calendar::HolidayCalendar::default(),
    };
    Ok(earliest_deadline(
        at,
        period,
        accelerator.clamp(1, MAX_ACCELERATOR),
        &calendar,
    ))
}

/// Interest on what `account` holds, each payment from the day it arrived to `now`, at `rate` a
/// year over 360 days, half-up to the fen in total (API.md). When part of the payments already went
/// back (an overpayment), the interest is on the `principal` still held, in proportion.
async fn interest_on(
    txn: &impl ConnectionTrait,
    held_account: &str,
    principal: i64,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<i64> {
    let mut total = Decimal::ZERO;
    let mut paid = 0i64;
    for (at, amount) in postings_of_kind(txn, held_account, "payment").await? {
        let days = (now - at).num_days();
        paid += -amount;
        // Summed unrounded, rounded once: instalments do not each lose half a fen.
        total += Decimal::from(-amount) * rate * Decimal::from(days.max(0)) / Decimal::from(360);
    }
    if paid > principal && paid > 0 {
        total = total * Decimal::from(principal) / Decimal::from(paid);
    }
    let fen = total.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    Ok(i64::try_from(fen).unwrap_or(0).max(0))
}

/// Books the refund of everything `account` holds (with interest on deposits), closes the account
/// so later payments go to suspense, and enqueues the job that instructs the bank: all in the
/// caller's transaction. Returns the refund's id, or `None` when nothing is held.
pub async fn book_refund(
    txn: &impl ConnectionTrait,
    account: &virtual_accounts::Model,
    reason: RefundReason,
    due_by: DateTime<Utc>,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Option<String>> {
    virtual_accounts::Entity::update(virtual_accounts::ActiveModel {
        account_no: Set(account.account_no.clone()),
        status: Set("closed".to_owned()),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    let held_account = if account.kind == "fee" {
        fee_account(&account.account_no)
    } else {
        deposit(&account.account_no)
    };
    if account.kind == "fee" && reason == RefundReason::Cancelled {
        // A terminated tender returns the document fees it earned (实施条例 Art 31).
        let earned: i64 = postings_of_kind(txn, &held_account, "fee_earned")
            .await?
            .iter()
            .map(|(_, amount)| *amount)
            .sum();
        if earned > 0 {
            let currency: Currency = account.currency.parse().map_err(DomainError::internal)?;
            post(
                txn,
                "fee_returned",
                Some(&account.tender_id),
                &account.account_no,
                "tender terminated: the document fee goes back",
                currency,
                &[
                    (
                        crate::deposit::accounts::fee_income(&account.tender_id),
                        earned,
                    ),
                    (held_account.clone(), -earned),
                ],
                now,
            )
            .await?;
        }
    }
    let principal = -balance(txn, &held_account).await?;
    if principal <= 0 {
        return Ok(None);
    }
    let interest = if account.kind == "deposit" {
        interest_on(txn, &held_account, principal, rate, now).await?
    } else {
        0
    };
    book(
        txn,
        account,
        &held_account,
        principal,
        interest,
        reason,
        due_by,
        now,
    )
    .await
    .map(Some)
}

/// Books the refund of what was paid beyond the amount due (the account stays open): within 5
/// days, without interest. Returns the refund's id, or `None` when nothing was overpaid.
pub async fn book_excess_refund(
    txn: &impl ConnectionTrait,
    account: &virtual_accounts::Model,
    held_account: &str,
    keep: i64,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<Option<String>> {
    let excess = -balance(txn, held_account).await? - keep;
    if excess <= 0 {
        return Ok(None);
    }
    book(
        txn,
        account,
        held_account,
        excess,
        0,
        RefundReason::Overpaid,
        due_by,
        now,
    )
    .await
    .map(Some)
}

#[allow(clippy::too_many_arguments)]
async fn book(
    txn: &impl ConnectionTrait,
    account: &virtual_accounts::Model,
    held_account: &str,
    principal: i64,
    interest: i64,
    reason: RefundReason,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<String> {
    let held_account = held_account.to_owned();
    let currency: Currency = account.currency.parse().map_err(DomainError::internal)?;
    let payee = organizations::Entity::find_by_id(account.organization_id.clone())
        .one(txn)
        .await?
        .and_then(|o| o.basic_account)
        .unwrap_or_default();
    let id = format!("rfd_{}", uuid::Uuid::now_v7().simple());
    if interest > 0 {
        // The collecting account earned the interest at the bank; it is owed to the bidder.
        post(
            txn,
            "interest_accrued",
            Some(&account.tender_id),
            &id,
            "interest on the deposit for the days held",
            currency,
            &[
                (BANK.to_owned(), interest),
                (INTEREST.to_owned(), -interest),
            ],
            now,
        )
        .await?;
    }
    let mut lines = vec![
        (held_account, principal),
        (refunds_pending(&id), -(principal + interest)),
    ];
    if interest > 0 {
        lines.push((INTEREST.to_owned(), interest));
    }
    post(
        txn,
        "refund",
        Some(&account.tender_id),
        &id,
        reason.as_str(),
        currency,
        &lines,
        now,
    )
    .await?;
    refunds::Entity::insert(refunds::ActiveModel {
        id: Set(id.clone()),
        account_no: Set(account.account_no.clone()),
        tender_id: Set(account.tender_id.clone()),
        organization_id: Set(account.organization_id.clone()),
        reason: Set(reason.as_str().to_owned()),
        principal_fen: Set(principal),
        interest_fen: Set(interest),
        currency: Set(currency.code().to_owned()),
        payee_account: Set(payee),
        due_by: Set(due_by),
        status: Set("pending".to_owned()),
        bank_ref: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        instructed_at: Set(None),
        confirmed_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(&account.tender_id),
            &Actor::system(),
            "deposit.refund",
            format!("refund:{id}"),
        )
        .details(json!({
            "account_no": account.account_no,
            "reason": reason.as_str(),
            "principal_fen": principal,
            "interest_fen": interest,
            "due_by": crate::time::rfc3339(due_by),
        })),
        now,
    )
    .await?;
    jobs::enqueue(txn, send_job(&id, 0, now), now).await?;
    Ok(id)
}

fn send_job(refund_id: &str, round: u32, now: DateTime<Utc>) -> NewJob {
    NewJob::new(
        REFUND_JOB,
        json!({"refund_id": refund_id}),
        now,
        format!("{REFUND_JOB}:{refund_id}:{round}"),
    )
}

/// Keeps the deposit of `account` (a bid revoked after the deadline, 实施条例 Art 35; a winner who
/// refuses to sign, Art 74): it goes to the tenderer. Closes the account. Returns the amount kept.
pub async fn book_forfeit(
    txn: &impl ConnectionTrait,
    account: &virtual_accounts::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> DomainResult<i64> {
    virtual_accounts::Entity::update(virtual_accounts::ActiveModel {
        account_no: Set(account.account_no.clone()),
        status: Set("closed".to_owned()),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    let held_account = deposit(&account.account_no);
    let held = -balance(txn, &held_account).await?;
    if held > 0 {
        let currency: Currency = account.currency.parse().map_err(DomainError::internal)?;
        post(
            txn,
            "forfeit",
            Some(&account.tender_id),
            &account.account_no,
            reason,
            currency,
            &[(held_account, held), (forfeited(&account.tender_id), -held)],
            now,
        )
        .await?;
    }
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(&account.tender_id),
            &Actor::system(),
            "deposit.forfeit",
            format!("account:{}", account.account_no),
        )
        .details(json!({"reason": reason, "amount_fen": held})),
        now,
    )
    .await?;
    Ok(held)
}

/// Refunds every open account of a tender (deposits and fees) or of one lot's deposits, in the
/// caller's transaction: a cancelled tender (实施条例 Art 31) or a failed lot.
pub async fn refund_all(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    lot_id: Option<&str>,
    reason: RefundReason,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let tender = tenders::Entity::find_by_id(tender_id.to_owned())
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let accelerator = u32::try_from(tender.accelerator).unwrap_or(1);
    let due_by = refund_due_by(txn, reason, false, accelerator, now).await?;
    let mut query = virtual_accounts::Entity::find()
        .filter(virtual_accounts::Column::TenderId.eq(tender_id))
        .filter(virtual_accounts::Column::Status.eq("open"));
    if let Some(lot) = lot_id {
        query = query.filter(virtual_accounts::Column::LotId.eq(lot));
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
    tender_id: &str,
    registration_id: &str,
    rate: Decimal,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Option<String>> {
    let tender = get(db, Some(principal), tender_id).await?;
    let txn = begin_write(db).await?;
    let registration = registrations::Entity::find_by_id(registration_id.to_owned())
        .one(&txn)
        .await?
        .filter(|r| r.tender_id == tender_id && principal.is_member_of(&r.organization_id))
        .ok_or(DomainError::NotFound)?;
    if registration.status != "active" {
        return Err(DomainError::Conflict {
            code: "already_withdrawn",
            message: Text::new(
                "This registration has been withdrawn already.",
                "该报名已撤回。",
            ),
        });
    }
    if tender.status != TenderStatus::Active || now >= tender.bid_deadline {
        return Err(DomainError::Conflict {
            code: "deadline_passed",
            message: Text::new(
                "The bid deadline has passed: a registration can no longer be withdrawn (a bid may be revoked, forfeiting its deposit).",
                "投标截止时间已过，不能再撤回报名（撤销投标将没收保证金）。",
            ),
        });
    }
    registrations::Entity::update(registrations::ActiveModel {
        id: Set(registration.id.clone()),
        status: Set("withdrawn".to_owned()),
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

/// The job: hands a booked refund to the bank. Idempotent: a refund already instructed or confirmed
/// is not sent again; the refund id is the bank's idempotency key for a crash between the two.
pub async fn send_refund(
    db: &DatabaseConnection,
    gateway: &dyn BankGateway,
    refund_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let refund = refunds::Entity::find_by_id(refund_id.to_owned())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    if refund.status == "instructed" || refund.status == "confirmed" {
        return Ok(());
    }
    let instruction = RefundInstruction {
        refund_id: refund.id.clone(),
        payee_account: refund.payee_account.clone(),
        amount_fen: refund.principal_fen + refund.interest_fen,
        currency: refund.currency.clone(),
        memo: format!("Tenderhall refund {} ({})", refund.tender_id, refund.reason),
    };
    match gateway.send_refund(&instruction).await {
        Ok(bank_ref) => {
            use sea_orm::sea_query::Expr;
            let txn = begin_write(db).await?;
            refunds::Entity::update_many()
                .col_expr(refunds::Column::BankRef, Expr::value(bank_ref))
                .col_expr(refunds::Column::InstructedAt, Expr::value(now))
                .filter(refunds::Column::Id.eq(refund_id))
                .filter(refunds::Column::InstructedAt.is_null())
                .exec(&txn)
                .await?;
            // A bank that confirms at once (the sandbox) may have settled it already.
            refunds::Entity::update_many()
                .col_expr(refunds::Column::Status, Expr::value("instructed"))
                .filter(refunds::Column::Id.eq(refund_id))
                .filter(refunds::Column::Status.is_in(["pending", "failed"]))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            Ok(())
        }
        Err(e) => {
            let txn = begin_write(db).await?;
            refunds::Entity::update(refunds::ActiveModel {
                id: Set(refund.id.clone()),
                status: Set("failed".to_owned()),
                last_error: Set(Some(e.to_string())),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            txn.commit().await?;
            // The job fails and is retried with backoff; a dead one waits for an operator.
            Err(DomainError::internal(format!("refund {refund_id}: {e}")))
        }
    }
}

/// What the bank says of a refund it was instructed to pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundOutcome {
    Paid,
    Failed,
}

/// The bank's confirmation: a paid refund leaves the bank account (once, however often confirmed);
/// a failed one is queued to be sent again and stays visible to operators.
pub async fn confirm_refund(
    db: &DatabaseConnection,
    refund_id: &str,
    outcome: RefundOutcome,
    detail: &str,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let txn = begin_write(db).await?;
    let refund = refunds::Entity::find_by_id(refund_id.to_owned())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if refund.status == "confirmed" {
        txn.rollback().await?;
        return Ok(false);
    }
    let currency: Currency = refund.currency.parse().map_err(DomainError::internal)?;
    let total = refund.principal_fen + refund.interest_fen;
    match outcome {
        RefundOutcome::Paid => {
            post(
                &txn,
                "refund_paid",
                Some(&refund.tender_id),
                &refund.id,
                detail,
                currency,
                &[
                    (refunds_pending(&refund.id), total),
                    (BANK.to_owned(), -total),
                ],
                now,
            )
            .await?;
            refunds::Entity::update(refunds::ActiveModel {
                id: Set(refund.id.clone()),
                status: Set("confirmed".to_owned()),
                confirmed_at: Set(Some(now)),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
        RefundOutcome::Failed => {
            let round = u32::try_from(now.timestamp_micros() % 1_000_000_000).unwrap_or(1);
            refunds::Entity::update(refunds::ActiveModel {
                id: Set(refund.id.clone()),
                status: Set("failed".to_owned()),
                last_error: Set(Some(format!("the bank reported it failed: {detail}"))),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            jobs::enqueue(&txn, send_job(&refund.id, round.max(1), now), now).await?;
        }
    }
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&refund.tender_id),
            &Actor::system(),
            "deposit.refund_confirmed",
            format!("refund:{}", refund.id),
        )
        .details(json!({"outcome": if outcome == RefundOutcome::Paid { "paid" } else { "failed" }, "detail": detail})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// A refund as operators and the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundView {
    pub id: String,
    pub account_no: String,
    pub tender_id: String,
    pub organization_id: String,
    pub reason: String,
    pub principal_fen: i64,
    pub interest_fen: i64,
    pub status: String,
    pub due_by: DateTime<Utc>,
    pub instructed_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl From<refunds::Model> for RefundView {
    fn from(r: refunds::Model) -> Self {
        Self {
            id: r.id,
            account_no: r.account_no,
            tender_id: r.tender_id,
            organization_id: r.organization_id,
            reason: r.reason,
            principal_fen: r.principal_fen,
            interest_fen: r.interest_fen,
            status: r.status,
            due_by: r.due_by,
            instructed_at: r.instructed_at,
            confirmed_at: r.confirmed_at,
            last_error: r.last_error,
        }
    }
}

/// Refunds of a tender (all) or in a status, for operators; the tests read them too.
pub async fn list_refunds(
    db: &DatabaseConnection,
    tender_id: Option<&str>,
    status: Option<&str>,
) -> DomainResult<Vec<RefundView>> {
    let mut query = refunds::Entity::find();
    if let Some(t) = tender_id {
        query = query.filter(refunds::Column::TenderId.eq(t));
    }
    if let Some(s) = status {
        query = query.filter(refunds::Column::Status.eq(s));
    }
    Ok(query
        .order_by_asc(refunds::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(RefundView::from)
        .collect())
}

/// After the award notice (government procurement): the losers' deposits, within 5 working days
/// (87号令 Art 38). Tested now; the award issue calls it.
pub async fn refund_losers_after_award(
    db: &DatabaseConnection,
    tender_id: &str,
    lot_id: &str,
    winner_registration_id: &str,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    settle_lot(
        db,
        tender_id,
        lot_id,
        Some(winner_registration_id),
        false,
        true,
        rate,
        now,
    )
    .await
}

/// After the contract is signed: the winner's deposit, and (outside government procurement, where
/// they waited for the contract too) the losers', within 5 days, with interest (实施条例 Art 57;
/// 87号令 Art 38). Tested now; the contract issue calls it.
pub async fn refund_after_contract(
    db: &DatabaseConnection,
    tender_id: &str,
    lot_id: &str,
    winner_registration_id: &str,
    government_procurement: bool,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    settle_lot(
        db,
        tender_id,
        lot_id,
        Some(winner_registration_id),
        true,
        !government_procurement,
        rate,
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn settle_lot(
    db: &DatabaseConnection,
    tender_id: &str,
    lot_id: &str,
    winner: Option<&str>,
    include_winner: bool,
    include_losers: bool,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let txn = begin_write(db).await?;
    let tender = tenders::Entity::find_by_id(tender_id.to_owned())
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let gp = !include_losers || !include_winner;
    let accelerator = u32::try_from(tender.accelerator).unwrap_or(1);
    let mut booked = Vec::new();
    let rows = registrations::Entity::find()
        .filter(registrations::Column::TenderId.eq(tender_id))
        .filter(registrations::Column::LotId.eq(lot_id))
        .order_by_asc(registrations::Column::Id)
        .all(&txn)
        .await?;
    for registration in rows {
        let is_winner = winner == Some(registration.id.as_str());
        if (is_winner && !include_winner) || (!is_winner && !include_losers) {
            continue;
        }
        let Some(account) = virtual_accounts::Entity::find_by_id(registration.account_no.clone())
            .one(&txn)
            .await?
            .filter(|a| a.status == "open")
        else {
            continue;
        };
        let reason = if is_winner {
            RefundReason::Won
        } else {
            RefundReason::Lost
        };
        let due_by = refund_due_by(&txn, reason, gp, accelerator, now).await?;
        if let Some(id) = book_refund(&txn, &account, reason, due_by, rate, now).await? {
            booked.push(id);
        }
    }
    txn.commit().await?;
    Ok(booked)
}

/// Keeps a registration's deposit: its bid revoked after the deadline (实施条例 Art 35), or the
/// winner refusing to sign (实施条例 Art 74). Returns the amount kept.
pub async fn forfeit_registration(
    db: &DatabaseConnection,
    registration_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> DomainResult<i64> {
    let txn = begin_write(db).await?;
    let registration = registrations::Entity::find_by_id(registration_id.to_owned())
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let Some(account) = virtual_accounts::Entity::find_by_id(registration.account_no.clone())
        .one(&txn)
        .await?
        .filter(|a| a.status == "open")
    else {
        txn.rollback().await?;
        return Ok(0);
    };
    let kept = book_forfeit(&txn, &account, reason, now).await?;
    txn.commit().await?;
    Ok(kept)
}
