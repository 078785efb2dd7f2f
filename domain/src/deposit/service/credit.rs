//! What a batch of payments does to the accounts it pays into: the accounts are read once, with
//! their tender, their organization and what they hold; then each account is settled once: a fee
//! received in full is earned, the payers of deposits are checked (实施条例 Art 26, 40), and what
//! was paid beyond what is due goes back (RULES.md "Money").

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::ledger::{post, postings_of_kind};
use crate::account::store::organizations;
use crate::deposit::accounts::{deposit, fee_account, fee_income};
use crate::deposit::store::virtual_accounts;
use crate::error::{DomainError, DomainResult};
use crate::store::rows::{Inserts, is_in};
use crate::tender::store::tenders;

/// What the batch learned about the accounts it pays into, read once for all its notifications.
pub(super) struct Context {
    /// By account number.
    pub accounts: HashMap<String, virtual_accounts::Model>,
    /// By tender id: its deadline and accelerator.
    pub tenders: HashMap<String, (DateTime<Utc>, u32)>,
    /// By organization id: its registered basic account.
    basic_accounts: HashMap<String, Option<String>>,
    /// By account number: the balance of the ledger account its money is held in, before the batch.
    held_before: HashMap<String, i64>,
}

impl Context {
    /// One query: the accounts with their tender, their organization and what they hold.
    pub async fn load(txn: &impl ConnectionTrait, account_nos: Vec<String>) -> DomainResult<Self> {
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
pub(super) fn held_by(acct: &virtual_accounts::Model) -> String {
    if acct.kind == "fee" {
        fee_account(&acct.account_no)
    } else {
        deposit(&acct.account_no)
    }
}

/// After a batch's payments are posted, each account they paid into is settled once: a fee
/// received in full is earned; the payers of deposits are checked (实施条例 Art 26, 40); and what
/// was paid beyond what is due goes back within 5 days (RULES.md "Money").
pub(super) async fn settle(
    txn: &impl ConnectionTrait,
    inserts: &mut Inserts,
    context: &Context,
    paid: &[(&virtual_accounts::Model, (String, i64))],
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let mut accounts: Vec<&virtual_accounts::Model> = paid.iter().map(|(a, _)| *a).collect();
    accounts.sort_by(|a, b| a.account_no.cmp(&b.account_no));
    accounts.dedup_by(|a, b| a.account_no == b.account_no);
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
        let held = held_by(acct);
        // What the account held before the batch and the batch's payments (credits: negative).
        let balance = context
            .held_before
            .get(&acct.account_no)
            .copied()
            .unwrap_or(0)
            - paid_now.get(acct.account_no.as_str()).copied().unwrap_or(0);
        // What it may keep: a deposit its amount due; a fee account nothing once the fee is
        // earned, everything until then.
        let (keep, balance) = if acct.kind == "fee" {
            let currency: crate::money::Currency =
                acct.currency.parse().map_err(DomainError::internal)?;
            match earn_fee(txn, acct, &held, currency, balance, now).await? {
                Some(balance) => (0, balance),
                None => continue,
            }
        } else {
            (acct.amount_due_fen, balance)
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
/// `balance` is what the account holds now; returns what it holds once the fee is earned, or `None`
/// while the fee is not paid in full.
async fn earn_fee(
    txn: &impl ConnectionTrait,
    acct: &virtual_accounts::Model,
    held: &str,
    currency: crate::money::Currency,
    balance: i64,
    now: DateTime<Utc>,
) -> DomainResult<Option<i64>> {
    if !postings_of_kind(txn, held, "fee_earned").await?.is_empty() {
        return Ok(Some(balance));
    }
    if acct.amount_due_fen <= 0 || -balance < acct.amount_due_fen {
        return Ok(None);
    }
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
    Ok(Some(balance + acct.amount_due_fen))
}
