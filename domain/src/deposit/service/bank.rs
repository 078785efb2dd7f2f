//! The bank's payment notifications: credited once per `bank_txn_id`, to the virtual account they
//! name, or held in suspense when the account is unknown or closed; never dropped. A payment from an
//! account other than the bidder's basic account, and two bidders paying from one account, are
//! flagged to supervisors (实施条例 Art 26, 40).

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::ledger::{balance, post, postings_of_kind};
use crate::account::parse_bank_account;
use crate::account::store::organizations;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::deposit::Payment;
use crate::deposit::accounts::{BANK, SUSPENSE, deposit, fee_account, fee_income};
use crate::deposit::store::{bank_notifications, deposit_flags, virtual_accounts};
use crate::error::{DomainError, DomainResult, Text};
use crate::store::begin_write;
use crate::tender::store::tenders;

/// What became of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    Credited,
    /// The same notification again: nothing changed.
    Duplicate,
    /// Unknown or closed account: held for reconciliation.
    Suspense,
}

impl Receipt {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Credited => "credited",
            Self::Duplicate => "duplicate",
            Self::Suspense => "suspense",
        }
    }
}

fn txn_conflict(id: &str) -> DomainError {
    DomainError::Conflict {
        code: "txn_conflict",
        message: Text::new(
            format!(
                "Bank transaction `{id}` was notified before with a different body; nothing was changed."
            ),
            format!("银行流水 `{id}` 此前已以不同内容通知过，本次未做任何更改。"),
        ),
    }
}

/// The payer account as compared: spaces and hyphens dropped, upper case; kept as sent when it is
/// not a plausible account number (the payment is recorded whatever its payer looks like).
fn normalize_payer(raw: &str) -> String {
    parse_bank_account("payer_account", raw).unwrap_or_else(|_| raw.trim().to_uppercase())
}

/// Records a verified notification. `body_sha256` identifies the exact body, so that a repeat is a
/// duplicate and a changed body under the same id a conflict.
pub async fn receive(
    db: &DatabaseConnection,
    payment: Payment,
    body_sha256: &str,
    now: DateTime<Utc>,
) -> DomainResult<Receipt> {
    match record(db, &payment, body_sha256, now).await {
        Err(DomainError::Database(e)) if e.contains("UNIQUE") || e.contains("duplicate key") => {
            // A concurrent request with the same bank_txn_id committed first.
            let existing = bank_notifications::Entity::find_by_id(payment.bank_txn_id.clone())
                .one(db)
                .await?
                .ok_or_else(|| DomainError::Database(e.clone()))?;
            if existing.body_sha256 == body_sha256 {
                Ok(Receipt::Duplicate)
            } else {
                Err(txn_conflict(&payment.bank_txn_id))
            }
        }
        other => other,
    }
}

async fn record(
    db: &DatabaseConnection,
    payment: &Payment,
    body_sha256: &str,
    now: DateTime<Utc>,
) -> DomainResult<Receipt> {
    let txn = begin_write(db).await?;
    if let Some(existing) = bank_notifications::Entity::find_by_id(payment.bank_txn_id.clone())
        .one(&txn)
        .await?
    {
        txn.rollback().await?;
        return if existing.body_sha256 == body_sha256 {
            Ok(Receipt::Duplicate)
        } else {
            Err(txn_conflict(&payment.bank_txn_id))
        };
    }
    let amount = payment
        .amount
        .minor_units()
        .map_err(DomainError::internal)?;
    let currency = payment.amount.currency();
    let payer = normalize_payer(&payment.payer_account);
    let account = virtual_accounts::Entity::find_by_id(payment.account_no.clone())
        .one(&txn)
        .await?
        .filter(|a| a.status == "open" && a.currency == currency.code());
    let memo = format!("{} / {}", payment.payer_name, payer);
    let (receipt, entry_id) = match &account {
        None => {
            let entry = post(
                &txn,
                "suspense",
                None,
                &payment.bank_txn_id,
                &memo,
                currency,
                &[(BANK.to_owned(), amount), (SUSPENSE.to_owned(), -amount)],
                now,
            )
            .await?;
            audit::append(
                &txn,
                NewEntry::new(
                    Chain::platform(),
                    &Actor::system(),
                    "bank.suspense",
                    format!("bank_txn:{}", payment.bank_txn_id),
                )
                .details(json!({"account_no": payment.account_no, "amount_fen": amount, "currency": currency.code()})),
                now,
            )
            .await?;
            (Receipt::Suspense, entry)
        }
        Some(acct) => {
            let held = if acct.kind == "fee" {
                fee_account(&acct.account_no)
            } else {
                deposit(&acct.account_no)
            };
            let entry = post(
                &txn,
                "payment",
                Some(&acct.tender_id),
                &payment.bank_txn_id,
                &memo,
                currency,
                &[(BANK.to_owned(), amount), (held.clone(), -amount)],
                now,
            )
            .await?;
            let keep = if acct.kind == "fee" {
                earn_fee(&txn, acct, &held, currency, now).await?;
                // Once earned, the fee account keeps nothing; until then it keeps what came.
                if postings_of_kind(&txn, &held, "fee_earned")
                    .await?
                    .is_empty()
                {
                    i64::MAX
                } else {
                    0
                }
            } else {
                flag(&txn, acct, &payer, now).await?;
                acct.amount_due_fen
            };
            // One look at the tender serves the refund timing and the audit entry below.
            let tender = tenders::Entity::find_by_id(acct.tender_id.clone())
                .one(&txn)
                .await?;
            // More than was due goes back within 5 days (RULES.md "Money").
            if keep != i64::MAX && -balance(&txn, &held).await? > keep {
                let accelerator = tender
                    .as_ref()
                    .map_or(1, |t| u32::try_from(t.accelerator).unwrap_or(1));
                let due_by = super::refund::refund_due_by(
                    &txn,
                    super::refund::RefundReason::Overpaid,
                    false,
                    accelerator,
                    now,
                )
                .await?;
                super::refund::book_excess_refund(&txn, acct, &held, keep, due_by, now).await?;
            }
            // Who paid is as secret as who registered, until the deadline.
            let deadline = tender.map(|t| t.bid_deadline);
            let mut audit_entry = NewEntry::new(
                Chain::tender_sealed(&acct.tender_id),
                &Actor::system(),
                if acct.kind == "fee" {
                    "fee.payment"
                } else {
                    "deposit.payment"
                },
                format!("account:{}", acct.account_no),
            )
            .details(json!({
                "bank_txn_id": payment.bank_txn_id,
                "amount_fen": amount,
                "organization_id": acct.organization_id,
            }));
            audit_entry.withheld_until = deadline;
            audit::append(&txn, audit_entry, now).await?;
            (Receipt::Credited, entry)
        }
    };
    bank_notifications::Entity::insert(bank_notifications::ActiveModel {
        bank_txn_id: Set(payment.bank_txn_id.clone()),
        body_sha256: Set(body_sha256.to_owned()),
        account_no: Set(payment.account_no.clone()),
        amount_fen: Set(amount),
        currency: Set(currency.code().to_owned()),
        paid_at: Set(payment.paid_at),
        payer_name: Set(payment.payer_name.clone()),
        payer_account: Set(payer),
        outcome: Set(receipt.as_str().to_owned()),
        entry_id: Set(entry_id),
        received_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(receipt)
}

/// Once a fee account has received the whole fee, the fee is earned: it moves to the tender's fee
/// income, once. What is paid beyond it stays owed to the payer (an overpayment, refunded).
async fn earn_fee(
    txn: &impl ConnectionTrait,
    acct: &virtual_accounts::Model,
    held: &str,
    currency: crate::money::Currency,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    if !postings_of_kind(txn, held, "fee_earned").await?.is_empty() {
        return Ok(());
    }
    let paid = -balance(txn, held).await?;
    if acct.amount_due_fen > 0 && paid >= acct.amount_due_fen {
        post(
            txn,
            "fee_earned",
            Some(&acct.tender_id),
            &acct.account_no,
            "document fee received in full",
            currency,
            &[
                (held.to_owned(), acct.amount_due_fen),
                (fee_income(&acct.tender_id), -acct.amount_due_fen),
            ],
            now,
        )
        .await?;
    }
    Ok(())
}

async fn add_flag(
    txn: &impl ConnectionTrait,
    acct: &virtual_accounts::Model,
    kind: &str,
    payer: &str,
    detail: String,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    deposit_flags::Entity::insert(deposit_flags::ActiveModel {
        id: Set(format!("flg_{}", uuid::Uuid::now_v7().simple())),
        tender_id: Set(acct.tender_id.clone()),
        lot_id: Set(acct.lot_id.clone()),
        kind: Set(kind.to_owned()),
        account_no: Set(acct.account_no.clone()),
        organization_id: Set(acct.organization_id.clone()),
        payer_account: Set(payer.to_owned()),
        detail: Set(detail),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            deposit_flags::Column::Kind,
            deposit_flags::Column::AccountNo,
            deposit_flags::Column::PayerAccount,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The deposit must come from the bidder's basic account (实施条例 Art 26); one account paying the
/// deposits of two bidders of a tender is a collusion signal (实施条例 Art 40).
async fn flag(
    txn: &impl ConnectionTrait,
    acct: &virtual_accounts::Model,
    payer: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let basic = organizations::Entity::find_by_id(acct.organization_id.clone())
        .one(txn)
        .await?
        .and_then(|o| o.basic_account);
    if basic.as_deref() != Some(payer) {
        add_flag(
            txn,
            acct,
            "payer_mismatch",
            payer,
            format!(
                "paid from {payer}, not the registered basic account {}",
                basic.as_deref().unwrap_or("(none registered)")
            ),
            now,
        )
        .await?;
    }
    // Other organizations' deposit accounts in this tender that the same payer paid into.
    let paid_by_same: Vec<String> = bank_notifications::Entity::find()
        .select_only()
        .column(bank_notifications::Column::AccountNo)
        .distinct()
        .filter(bank_notifications::Column::PayerAccount.eq(payer))
        .filter(bank_notifications::Column::AccountNo.ne(acct.account_no.as_str()))
        .into_tuple()
        .all(txn)
        .await?;
    if paid_by_same.is_empty() {
        return Ok(());
    }
    let others = virtual_accounts::Entity::find()
        .filter(virtual_accounts::Column::AccountNo.is_in(paid_by_same))
        .filter(virtual_accounts::Column::TenderId.eq(acct.tender_id.as_str()))
        .filter(virtual_accounts::Column::Kind.eq("deposit"))
        .filter(virtual_accounts::Column::OrganizationId.ne(acct.organization_id.as_str()))
        .all(txn)
        .await?;
    for other in &others {
        let detail = |a: &virtual_accounts::Model, b: &virtual_accounts::Model| {
            format!(
                "the deposits of {} and {} were paid from the same account {payer}",
                a.organization_id, b.organization_id
            )
        };
        add_flag(txn, acct, "shared_payer", payer, detail(acct, other), now).await?;
        add_flag(txn, other, "shared_payer", payer, detail(other, acct), now).await?;
    }
    Ok(())
}

/// A payment held in suspense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspensePayment {
    pub bank_txn_id: String,
    pub account_no: String,
    pub amount: crate::money::Money,
    pub paid_at: DateTime<Utc>,
    pub payer_name: String,
    pub payer_account: String,
    pub received_at: DateTime<Utc>,
}

/// Payments to unknown or closed accounts, for operators to reconcile (API.md "Who sees what").
pub async fn suspense_payments(
    db: &DatabaseConnection,
    principal: &crate::account::Principal,
) -> DomainResult<Vec<SuspensePayment>> {
    principal.require_operator()?;
    use sea_orm::QueryOrder;
    bank_notifications::Entity::find()
        .filter(bank_notifications::Column::Outcome.eq(Receipt::Suspense.as_str()))
        .order_by_asc(bank_notifications::Column::ReceivedAt)
        .limit(10_000)
        .all(db)
        .await?
        .into_iter()
        .map(|n| {
            let currency: crate::money::Currency =
                n.currency.parse().map_err(DomainError::internal)?;
            Ok(SuspensePayment {
                amount: crate::money::Money::from_minor_units(n.amount_fen, currency),
                bank_txn_id: n.bank_txn_id,
                account_no: n.account_no,
                paid_at: n.paid_at,
                payer_name: n.payer_name,
                payer_account: n.payer_account,
                received_at: n.received_at,
            })
        })
        .collect()
}
