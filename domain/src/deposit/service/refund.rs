//! Refunds and forfeits (docs/spec/rules.md "Money"). A refund is booked (the money moves from what the
//! platform holds for the bidder, plus interest, to a pending refund), instructed to the bank by a
//! job through the `BankGateway`, and settled when the bank confirms it; a failed refund is sent
//! again and shown to operators, never forgotten. A forfeit moves the deposit to the tenderer.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use super::ledger::{balance, post, postings_of_kind};
use tenderhall_model::state::{AccountKind, AccountStatus, RefundStatus};

use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::deposit::accounts::{BANK, INTEREST, deposit, fee_account, forfeited, refunds_pending};
use crate::deposit::store::{refunds, virtual_accounts};
use crate::error::{DomainError, DomainResult};
use crate::id::RefundId;
use crate::jobs::{NewJob, service as jobs};
use crate::money::Currency;
use crate::tender::MAX_ACCELERATOR;
use crate::tender::procedure::Period;
use crate::tender::store::queries;

/// An audit entry about one bidder's money. Before the bid deadline it would tell supervisors that
/// someone registered (电子招标投标办法 Art 21), so it goes to the tender's sealed chain, withheld
/// until the deadline; after it, to the tender's own chain.
pub(super) async fn money_entry(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    action: &'static str,
    object: String,
    now: DateTime<Utc>,
) -> DomainResult<NewEntry> {
    let deadline = queries::bid_deadline(txn, tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    if now < deadline {
        let mut entry = NewEntry::new(
            Chain::tender_sealed(tender_id),
            &Actor::system(),
            action,
            object,
        );
        entry.withheld_until = Some(deadline);
        Ok(entry)
    } else {
        Ok(NewEntry::new(
            Chain::tender(tender_id),
            &Actor::system(),
            action,
            object,
        ))
    }
}

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

    /// The legal time to refund in, counted from the event (docs/spec/rules.md "Money").
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
    crate::tender::service::period_end(
        txn,
        at,
        reason.period(government_procurement),
        accelerator.clamp(1, MAX_ACCELERATOR),
    )
    .await
}

/// Interest on what `account` holds, each payment from the day it arrived to `now`, at `rate` a
/// year over 360 days, half-up to the fen in total (docs/spec/api-contract.md). When part of the payments already went
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
        status: Set(AccountStatus::Closed.as_str().to_owned()),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    let held_account = if account.kind == AccountKind::Fee.as_str() {
        fee_account(&account.account_no)
    } else {
        deposit(&account.account_no)
    };
    if account.kind == AccountKind::Fee.as_str() && reason == RefundReason::Cancelled {
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
    let interest = if account.kind == AccountKind::Deposit.as_str() {
        interest_on(txn, &held_account, principal, rate, now).await?
    } else {
        0
    };
    book(
        txn,
        account.into(),
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

/// Whose money a refund returns: the virtual account and its tender, bidder and currency.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holder<'a> {
    pub account_no: &'a str,
    pub tender_id: &'a str,
    pub organization_id: &'a str,
    pub currency: &'a str,
}

impl<'a> From<&'a virtual_accounts::Model> for Holder<'a> {
    fn from(a: &'a virtual_accounts::Model) -> Self {
        Self {
            account_no: &a.account_no,
            tender_id: &a.tender_id,
            organization_id: &a.organization_id,
            currency: &a.currency,
        }
    }
}

impl<'a> From<&'a tenderhall_model::deposit::batch::Account> for Holder<'a> {
    fn from(a: &'a tenderhall_model::deposit::batch::Account) -> Self {
        Self {
            account_no: &a.account_no,
            tender_id: &a.tender_id,
            organization_id: &a.organization_id,
            currency: &a.currency,
        }
    }
}

/// Books the refund of `excess`, what a batch of payments put beyond what the account may keep
/// (the account stays open): within 5 days, without interest. Returns the refund's id.
pub(super) async fn book_overpaid(
    txn: &impl ConnectionTrait,
    account: Holder<'_>,
    held_account: &str,
    excess: i64,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<String> {
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
}

#[allow(clippy::too_many_arguments)]
async fn book(
    txn: &impl ConnectionTrait,
    account: Holder<'_>,
    held_account: &str,
    principal: i64,
    interest: i64,
    reason: RefundReason,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<String> {
    let held_account = held_account.to_owned();
    let currency: Currency = account.currency.parse().map_err(DomainError::internal)?;
    let payee = crate::account::store::queries::basic_account(txn, account.organization_id)
        .await?
        .unwrap_or_default();
    let id = RefundId::generate().to_string();
    if interest > 0 {
        // The collecting account earned the interest at the bank; it is owed to the bidder.
        post(
            txn,
            "interest_accrued",
            Some(account.tender_id),
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
        Some(account.tender_id),
        &id,
        reason.as_str(),
        currency,
        &lines,
        now,
    )
    .await?;
    refunds::Entity::insert(refunds::ActiveModel {
        id: Set(id.clone()),
        account_no: Set(account.account_no.to_owned()),
        tender_id: Set(account.tender_id.to_owned()),
        organization_id: Set(account.organization_id.to_owned()),
        reason: Set(reason.as_str().to_owned()),
        principal_fen: Set(principal),
        interest_fen: Set(interest),
        currency: Set(currency.code().to_owned()),
        payee_account: Set(payee),
        due_by: Set(due_by),
        status: Set(RefundStatus::Pending.as_str().to_owned()),
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
        money_entry(
            txn,
            account.tender_id,
            "deposit.refund",
            format!("refund:{id}"),
            now,
        )
        .await?
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

pub(super) fn send_job(refund_id: &str, round: u32, now: DateTime<Utc>) -> NewJob {
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
        status: Set(AccountStatus::Closed.as_str().to_owned()),
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

/// Keeps an auction winner's deposit toward the price (docs/auctions.md "The reserve and the
/// result"): what `account` holds goes to the seller's proceeds of the tender, and the account
/// closes. Returns the amount applied.
pub async fn book_applied_to_price(
    txn: &impl ConnectionTrait,
    account: &virtual_accounts::Model,
    now: DateTime<Utc>,
) -> DomainResult<i64> {
    virtual_accounts::Entity::update(virtual_accounts::ActiveModel {
        account_no: Set(account.account_no.clone()),
        status: Set(AccountStatus::Closed.as_str().to_owned()),
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
            "applied_to_price",
            Some(&account.tender_id),
            &account.account_no,
            "auction won: the deposit is kept toward the price",
            currency,
            &[
                (held_account, held),
                (
                    crate::deposit::accounts::sale_proceeds(&account.tender_id),
                    -held,
                ),
            ],
            now,
        )
        .await?;
    }
    Ok(held)
}
