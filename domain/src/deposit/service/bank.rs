//! The bank's payment notifications: credited once per `bank_txn_id`, to the virtual account they
//! name, or held in suspense when the account is unknown or closed; never dropped. A payment from an
//! account other than the bidder's basic account, and two bidders paying from one account, are
//! flagged to supervisors (实施条例 Art 26, 40).

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use std::collections::HashMap;

use super::ledger::{Entry, balance, post, postings_of_kind, queue_entries};
use crate::account::parse_bank_account;
use crate::account::store::organizations;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::deposit::Payment;
use crate::deposit::accounts::{BANK, SUSPENSE, deposit, fee_account, fee_income};
use crate::deposit::store::{bank_notifications, virtual_accounts};
use crate::error::{DomainError, DomainResult, Text};
use crate::store::begin_write;
use crate::store::rows::{Inserts, is_in};
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

/// A verified notification to record: the payment and the SHA-256 of its exact body, which
/// tells a repeat (a duplicate) from a changed body under the same id (a conflict).
#[derive(Debug, Clone)]
pub struct Notification {
    pub payment: Payment,
    pub body_sha256: String,
}

/// Records one verified notification.
pub async fn receive(
    db: &DatabaseConnection,
    payment: Payment,
    body_sha256: &str,
    now: DateTime<Utc>,
) -> DomainResult<Receipt> {
    let notification = Notification {
        payment,
        body_sha256: body_sha256.to_owned(),
    };
    receive_one(db, &notification, now).await
}

/// Records several notifications in one transaction (the group commit of `intake`), answering each
/// on its own: a duplicate or a conflict in the batch does not hold up the others. Should the
/// transaction fail as a whole, nothing of it is kept and each is recorded again on its own.
pub async fn receive_all(
    db: &DatabaseConnection,
    batch: &[Notification],
    now: DateTime<Utc>,
) -> Vec<DomainResult<Receipt>> {
    record_all(db, batch, now).await.answers
}

/// What a batch answered, and the tender of each account it paid into (the intake routes by them).
pub(super) struct Recorded {
    pub answers: Vec<DomainResult<Receipt>>,
    /// (account number, tender id).
    pub tenders: Vec<(String, String)>,
}

/// [`receive_all`], telling the accounts' tenders too.
pub(super) async fn record_all(
    db: &DatabaseConnection,
    batch: &[Notification],
    now: DateTime<Utc>,
) -> Recorded {
    match record(db, batch, now).await {
        Ok(recorded) => recorded,
        Err(e) => {
            if batch.len() > 1 {
                tracing::info!(error = %e, size = batch.len(), "notification batch retried one by one");
            }
            let mut answers = Vec::with_capacity(batch.len());
            for notification in batch {
                answers.push(receive_one(db, notification, now).await);
            }
            Recorded {
                answers,
                tenders: Vec::new(),
            }
        }
    }
}

async fn receive_one(
    db: &DatabaseConnection,
    notification: &Notification,
    now: DateTime<Utc>,
) -> DomainResult<Receipt> {
    let id = &notification.payment.bank_txn_id;
    match record(db, std::slice::from_ref(notification), now).await {
        Ok(Recorded { mut answers, .. }) => answers
            .pop()
            .unwrap_or_else(|| Err(DomainError::internal("a notification got no answer"))),
        Err(DomainError::Database(e)) if e.contains("UNIQUE") || e.contains("duplicate key") => {
            // A concurrent request with the same bank_txn_id committed first.
            let existing = bank_notifications::Entity::find_by_id(id.clone())
                .one(db)
                .await?
                .ok_or_else(|| DomainError::Database(e.clone()))?;
            if existing.body_sha256 == notification.body_sha256 {
                Ok(Receipt::Duplicate)
            } else {
                Err(txn_conflict(id))
            }
        }
        Err(e) => Err(e),
    }
}

/// What the batch learned about the accounts it pays into, read once for all its notifications.
struct Context {
    accounts: HashMap<String, virtual_accounts::Model>,
    /// By tender id: its deadline and accelerator.
    tenders: HashMap<String, (DateTime<Utc>, u32)>,
    /// By organization id: its registered basic account.
    basic_accounts: HashMap<String, Option<String>>,
    /// By account number: the balance of the ledger account its money is held in, before the batch.
    held_before: HashMap<String, i64>,
}

impl Context {
    /// One query: the accounts with their tender, their organization and what they hold.
    async fn load(txn: &impl ConnectionTrait, account_nos: Vec<String>) -> DomainResult<Self> {
        use sea_orm::{FromQueryResult, JoinType};
        #[derive(FromQueryResult)]
        struct Row {
            account_no: String,
            kind: String,
            tender_id: String,
            lot_id: String,
            organization_id: String,
            registration_id: Option<String>,
            amount_due_fen: i64,
            currency: String,
            status: String,
            created_at: DateTime<Utc>,
            bid_deadline: Option<DateTime<Utc>>,
            accelerator: Option<i32>,
            basic_account: Option<String>,
            held_balance: i64,
        }
        let to_tender = virtual_accounts::Entity::belongs_to(tenders::Entity)
            .from(virtual_accounts::Column::TenderId)
            .to(tenders::Column::Id)
            .into();
        let to_organization = virtual_accounts::Entity::belongs_to(organizations::Entity)
            .from(virtual_accounts::Column::OrganizationId)
            .to(organizations::Column::Id)
            .into();
        let rows = virtual_accounts::Entity::find()
            .filter(is_in(
                txn.get_database_backend(),
                virtual_accounts::Column::AccountNo,
                account_nos,
            ))
            .join(JoinType::LeftJoin, to_tender)
            .join(JoinType::LeftJoin, to_organization)
            .column_as(held_balance(txn.get_database_backend()), "held_balance")
            .column(tenders::Column::BidDeadline)
            .column(tenders::Column::Accelerator)
            .column(organizations::Column::BasicAccount)
            .into_model::<Row>()
            .all(txn)
            .await?;
        let mut context = Self {
            accounts: HashMap::new(),
            tenders: HashMap::new(),
            basic_accounts: HashMap::new(),
            held_before: HashMap::new(),
        };
        for row in rows {
            if let (Some(deadline), Some(accelerator)) = (row.bid_deadline, row.accelerator) {
                let accelerator = u32::try_from(accelerator).unwrap_or(1);
                context
                    .tenders
                    .insert(row.tender_id.clone(), (deadline, accelerator));
            }
            context
                .basic_accounts
                .insert(row.organization_id.clone(), row.basic_account);
            context
                .held_before
                .insert(row.account_no.clone(), row.held_balance);
            context.accounts.insert(
                row.account_no.clone(),
                virtual_accounts::Model {
                    account_no: row.account_no,
                    kind: row.kind,
                    tender_id: row.tender_id,
                    lot_id: row.lot_id,
                    organization_id: row.organization_id,
                    registration_id: row.registration_id,
                    amount_due_fen: row.amount_due_fen,
                    currency: row.currency,
                    status: row.status,
                    created_at: row.created_at,
                },
            );
        }
        Ok(context)
    }
}

/// One transaction for the whole batch: duplicates found with one query, the accounts, tenders
/// and payers read with one query each, the journal entries, audit entries and notifications
/// written with one multi-row INSERT each. `Err` means nothing was recorded.
async fn record(
    db: &DatabaseConnection,
    batch: &[Notification],
    now: DateTime<Utc>,
) -> DomainResult<Recorded> {
    let txn = begin_write(db).await?;
    let mut seen: HashMap<String, String> = bank_notifications::Entity::find()
        .select_only()
        .column(bank_notifications::Column::BankTxnId)
        .column(bank_notifications::Column::BodySha256)
        .filter(is_in(
            txn.get_database_backend(),
            bank_notifications::Column::BankTxnId,
            batch
                .iter()
                .map(|n| n.payment.bank_txn_id.clone())
                .collect(),
        ))
        .into_tuple::<(String, String)>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let mut answers: Vec<Option<DomainResult<Receipt>>> = batch.iter().map(|_| None).collect();
    let mut tenders = Vec::new();
    let mut fresh: Vec<(usize, i64)> = Vec::new();
    for (i, n) in batch.iter().enumerate() {
        let id = &n.payment.bank_txn_id;
        if let Some(sha) = seen.get(id) {
            answers[i] = Some(if *sha == n.body_sha256 {
                Ok(Receipt::Duplicate)
            } else {
                Err(txn_conflict(id))
            });
            continue;
        }
        match n.payment.amount.minor_units() {
            Ok(fen) => {
                seen.insert(id.clone(), n.body_sha256.clone());
                fresh.push((i, fen));
            }
            Err(e) => answers[i] = Some(Err(DomainError::internal(e))),
        }
    }
    if !fresh.is_empty() {
        let account_nos = fresh
            .iter()
            .map(|(i, _)| batch[*i].payment.account_no.clone())
            .collect();
        let context = Context::load(&txn, account_nos).await?;
        tenders.extend(
            context
                .accounts
                .values()
                .map(|a| (a.account_no.clone(), a.tender_id.clone())),
        );
        let mut journal = Vec::with_capacity(fresh.len());
        let mut audits = Vec::with_capacity(fresh.len());
        let mut rows = Vec::with_capacity(fresh.len());
        // The accounts paid into, with the payer and the amount of each payment.
        let mut touched: Vec<(&virtual_accounts::Model, (String, i64))> = Vec::new();
        for &(i, amount) in &fresh {
            let payment = &batch[i].payment;
            let currency = payment.amount.currency();
            let payer = normalize_payer(&payment.payer_account);
            let memo = format!("{} / {}", payment.payer_name, payer);
            let account = context
                .accounts
                .get(&payment.account_no)
                .filter(|a| a.status == "open" && a.currency == currency.code());
            let receipt = match account {
                None => {
                    journal.push(Entry {
                        kind: "suspense".to_owned(),
                        tender_id: None,
                        reference: payment.bank_txn_id.clone(),
                        memo,
                        currency,
                        lines: vec![(BANK.to_owned(), amount), (SUSPENSE.to_owned(), -amount)],
                    });
                    audits.push(
                        NewEntry::new(
                            Chain::platform(),
                            &Actor::system(),
                            "bank.suspense",
                            format!("bank_txn:{}", payment.bank_txn_id),
                        )
                        .details(json!({"account_no": payment.account_no, "amount_fen": amount, "currency": currency.code()})),
                    );
                    Receipt::Suspense
                }
                Some(acct) => {
                    journal.push(Entry {
                        kind: "payment".to_owned(),
                        tender_id: Some(acct.tender_id.clone()),
                        reference: payment.bank_txn_id.clone(),
                        memo,
                        currency,
                        lines: vec![(BANK.to_owned(), amount), (held_by(acct), -amount)],
                    });
                    // Who paid is as secret as who registered, until the deadline.
                    let mut entry = NewEntry::new(
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
                    entry.withheld_until = context.tenders.get(&acct.tender_id).map(|t| t.0);
                    audits.push(entry);
                    touched.push((acct, (payer.clone(), amount)));
                    Receipt::Credited
                }
            };
            rows.push(bank_notifications::ActiveModel {
                bank_txn_id: Set(payment.bank_txn_id.clone()),
                body_sha256: Set(batch[i].body_sha256.clone()),
                account_no: Set(payment.account_no.clone()),
                amount_fen: Set(amount),
                currency: Set(currency.code().to_owned()),
                paid_at: Set(payment.paid_at),
                payer_name: Set(payment.payer_name.clone()),
                payer_account: Set(payer),
                outcome: Set(receipt.as_str().to_owned()),
                entry_id: Set(String::new()),
                received_at: Set(now),
            });
            answers[i] = Some(Ok(receipt));
        }
        // The entries, their postings and the notifications in one statement (PostgreSQL).
        let mut inserts = Inserts::new(&txn);
        let entry_ids = queue_entries(&mut inserts, &journal, now)?;
        for (row, entry_id) in rows.iter_mut().zip(entry_ids) {
            row.entry_id = Set(entry_id);
        }
        inserts.add(rows)?;
        inserts.run(&txn).await?;
        let mut inserts = Inserts::new(&txn);
        settle(&txn, &mut inserts, &context, &touched, now).await?;
        // Last, so the chain tips stay locked only until the commit; the new payers go with them.
        audit::append_many_with(&txn, audits, now, inserts).await?;
    }
    txn.commit().await?;
    Ok(Recorded {
        answers: answers
            .into_iter()
            .map(|a| {
                a.unwrap_or_else(|| Err(DomainError::internal("a notification got no answer")))
            })
            .collect(),
        tenders,
    })
}

/// The balance of the ledger account a virtual account's money is held in ([`held_by`]), as a
/// column of a query on `virtual_accounts`.
fn held_balance(backend: sea_orm::DatabaseBackend) -> sea_orm::sea_query::SimpleExpr {
    // The backend's own placeholders: numbered on PostgreSQL, `?` on SQLite.
    let (fee, deposit_) = match backend {
        sea_orm::DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    sea_orm::sea_query::Expr::cust_with_values(
        format!(
            "(SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM postings p WHERE \
             p.account = (CASE WHEN \"virtual_accounts\".\"kind\" = 'fee' THEN {fee} ELSE \
             {deposit_} END) || \"virtual_accounts\".\"account_no\")"
        ),
        [fee_account(""), deposit("")],
    )
}

/// The ledger account a virtual account's money is held in.
fn held_by(acct: &virtual_accounts::Model) -> String {
    if acct.kind == "fee" {
        fee_account(&acct.account_no)
    } else {
        deposit(&acct.account_no)
    }
}

/// After a batch's payments are posted, each account they paid into is settled once: a fee
/// received in full is earned; the payers of deposits are checked (实施条例 Art 26, 40); and what
/// was paid beyond what is due goes back within 5 days (RULES.md "Money").
async fn settle(
    txn: &impl ConnectionTrait,
    inserts: &mut Inserts,
    context: &Context,
    paid: &[(&virtual_accounts::Model, (String, i64))],
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let mut accounts: Vec<&virtual_accounts::Model> = paid.iter().map(|(a, _)| *a).collect();
    accounts.sort_by(|a, b| a.account_no.cmp(&b.account_no));
    accounts.dedup_by(|a, b| a.account_no == b.account_no);
    // What each account may keep: a deposit its amount due; a fee account nothing once the fee is
    // earned, everything until then.
    let mut keep: HashMap<&str, i64> = HashMap::new();
    for acct in &accounts {
        if acct.kind == "fee" {
            let held = held_by(acct);
            let currency: crate::money::Currency =
                acct.currency.parse().map_err(DomainError::internal)?;
            earn_fee(txn, acct, &held, currency, now).await?;
            if !postings_of_kind(txn, &held, "fee_earned").await?.is_empty() {
                keep.insert(acct.account_no.as_str(), 0);
            }
        } else {
            keep.insert(acct.account_no.as_str(), acct.amount_due_fen);
        }
    }
    let payers: Vec<(&virtual_accounts::Model, String)> = paid
        .iter()
        .map(|(a, (payer, _))| (*a, payer.clone()))
        .collect();
    super::payers::flag_payers(
        txn,
        inserts,
        &context.accounts,
        &context.basic_accounts,
        &payers,
        now,
    )
    .await?;
    let mut paid_now: HashMap<&str, i64> = HashMap::new();
    for (acct, (_, amount)) in paid {
        *paid_now.entry(acct.account_no.as_str()).or_default() += amount;
    }
    for acct in &accounts {
        let Some(&keep) = keep.get(acct.account_no.as_str()) else {
            continue;
        };
        let held = held_by(acct);
        // A deposit holds what it held before the batch and the batch's payments; a fee account
        // may just have had its fee earned, so it is read again.
        let balance = if acct.kind == "fee" {
            balance(txn, &held).await?
        } else {
            context
                .held_before
                .get(&acct.account_no)
                .copied()
                .unwrap_or(0)
                - paid_now.get(acct.account_no.as_str()).copied().unwrap_or(0)
        };
        if -balance > keep {
            let accelerator = context.tenders.get(&acct.tender_id).map_or(1, |t| t.1);
            let due_by = super::refund::refund_due_by(
                txn,
                super::refund::RefundReason::Overpaid,
                false,
                accelerator,
                now,
            )
            .await?;
            super::refund::book_excess_refund(txn, acct, &held, keep, due_by, now).await?;
        }
    }
    Ok(())
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
