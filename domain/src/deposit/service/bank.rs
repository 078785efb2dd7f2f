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

use super::credit::{apply, held_by};
use super::ledger::{Entry, queue_entries};
use tenderhall_model::deposit::Disposition;
use tenderhall_model::deposit::batch as rules;
use tenderhall_model::state::AccountKind;

use crate::account::parse_bank_account;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::deposit::Payment;
use crate::deposit::accounts::{BANK, SUSPENSE};
use crate::deposit::store::bank_notifications;
use crate::deposit::store::batch::lock_and_read;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::store::begin_write;
use crate::store::rows::{Inserts, is_in};

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
    DomainError::Refused {
        code: ErrorCode::TxnConflict,
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
    // A bank rarely repeats itself: a batch first goes without reading which of its ids are
    // known, and the primary key refuses a repeat (nothing is kept); then it goes again, reading.
    let recorded = match record(db, batch, now, false).await {
        Err(e) if is_unique_violation(&e) => record(db, batch, now, true).await,
        other => other,
    };
    match recorded {
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
    match record(db, std::slice::from_ref(notification), now, true).await {
        Ok(Recorded { mut answers, .. }) => answers
            .pop()
            .unwrap_or_else(|| Err(DomainError::internal("a notification got no answer"))),
        Err(e) if is_unique_violation(&e) => {
            // A concurrent request with the same bank_txn_id committed first.
            let existing = bank_notifications::Entity::find_by_id(id.clone())
                .one(db)
                .await?
                .ok_or(e)?;
            if existing.body_sha256 == notification.body_sha256 {
                Ok(Receipt::Duplicate)
            } else {
                Err(txn_conflict(id))
            }
        }
        Err(e) => Err(e),
    }
}

/// A repeated `bank_txn_id` refused by the primary key of `bank_notifications` (the other
/// inserts of a batch cannot collide: their ids are new, their chains locked, their payers
/// inserted `ON CONFLICT DO NOTHING`).
fn is_unique_violation(e: &DomainError) -> bool {
    e.violates(crate::store::unique::BANK_TXN_ID)
}

/// One transaction for the whole batch: the known ids read with one query (when `read_known`;
/// otherwise only repeats inside the batch are found, and the primary key refuses the others);
/// the tenders' sealed chains locked and the accounts read with one more (`store::batch`); the
/// batch decided by the rules (`tenderhall_model::deposit::batch::plan`); the journal entries,
/// postings, notifications, settlements, payers, flags, audit entries and chain tips written with
/// one statement (an overpayment's refund is booked before it). BEGIN, those two and COMMIT are
/// the four round trips of a batch. `Err` means nothing was recorded.
async fn record(
    db: &DatabaseConnection,
    batch: &[Notification],
    now: DateTime<Utc>,
    read_known: bool,
) -> DomainResult<Recorded> {
    let txn = begin_write(db).await?;
    let mut seen: HashMap<String, String> = if !read_known {
        HashMap::new()
    } else {
        let known = batch
            .iter()
            .map(|n| n.payment.bank_txn_id.clone())
            .collect();
        bank_notifications::Entity::find()
            .select_only()
            .column(bank_notifications::Column::BankTxnId)
            .column(bank_notifications::Column::BodySha256)
            .filter(is_in(
                txn.get_database_backend(),
                bank_notifications::Column::BankTxnId,
                known,
            ))
            .into_tuple::<(String, String)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect()
    };
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
        let paid: Vec<(String, String)> = fresh
            .iter()
            .map(|(i, _)| {
                let payment = &batch[*i].payment;
                (
                    payment.account_no.clone(),
                    normalize_payer(&payment.payer_account),
                )
            })
            .collect();
        let mut loaded = lock_and_read(&txn, &paid, now).await?;
        tenders.extend(
            loaded
                .accounts
                .values()
                .map(|a| (a.account_no.clone(), a.tender_id.clone())),
        );
        let payments: Vec<rules::Payment> = fresh
            .iter()
            .zip(&paid)
            .map(|(&(i, amount_fen), (account_no, payer))| rules::Payment {
                account_no,
                amount_fen,
                currency: batch[i].payment.amount.currency().code(),
                payer,
            })
            .collect();
        let plan = rules::plan(&loaded.accounts, &payments, &loaded.payers);

        let mut journal = Vec::with_capacity(fresh.len());
        let mut audits = Vec::with_capacity(fresh.len());
        let mut rows = Vec::with_capacity(fresh.len());
        for ((&(i, amount), (_, payer)), disposition) in
            fresh.iter().zip(&paid).zip(&plan.dispositions)
        {
            let payment = &batch[i].payment;
            let currency = payment.amount.currency();
            let memo = format!("{} / {}", payment.payer_name, payer);
            let account = loaded
                .accounts
                .get(&payment.account_no)
                .filter(|_| *disposition == Disposition::Credit);
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
                        match acct.kind {
                            AccountKind::Fee => "fee.payment",
                            AccountKind::Deposit => "deposit.payment",
                        },
                        format!("account:{}", acct.account_no),
                    )
                    .details(json!({
                        "bank_txn_id": payment.bank_txn_id,
                        "amount_fen": amount,
                        "organization_id": acct.organization_id,
                    }));
                    entry.withheld_until = loaded.tenders.get(&acct.tender_id).map(|t| t.0);
                    audits.push(entry);
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
                payer_account: Set(payer.clone()),
                outcome: Set(receipt.as_str().to_owned()),
                entry_id: Set(String::new()),
                received_at: Set(now),
            });
            answers[i] = Some(Ok(receipt));
        }
        // The entries, their postings, the notifications, the settlements, the payers and flags,
        // the audit entries and the chain tips in one statement (PostgreSQL); a refund is booked
        // on its own before it.
        let mut inserts = Inserts::new(&txn);
        let entry_ids = queue_entries(&mut inserts, &journal, now)?;
        for (row, entry_id) in rows.iter_mut().zip(entry_ids) {
            row.entry_id = Set(entry_id);
        }
        inserts.add(rows)?;
        let refunded = apply(&txn, &mut inserts, &loaded, &plan, now).await?;
        // The tips stay locked; a refund's audit entry moved them, so they are read again then.
        let tips = if refunded {
            audit::Tips::new()
        } else {
            std::mem::take(&mut loaded.tips)
        };
        let tips = audit::lock_tips_of(&txn, &audits, tips, now).await?;
        audit::queue(&mut inserts, audits, tips, now)?;
        inserts.run(&txn).await?;
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

/// Payments to unknown or closed accounts, for operators to reconcile (docs/spec/visibility.md).
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
