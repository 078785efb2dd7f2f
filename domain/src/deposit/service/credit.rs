//! What a batch of payments does to the accounts it pays into: the sealed audit chains of their
//! tenders are locked, then the accounts are read once, with their tender, their organization, what
//! they hold and who paid into the tender from the batch's payers; then each account is settled
//! once: a fee received in full is earned, the payers of deposits are checked (实施条例 Art 26, 40),
//! and what was paid beyond what is due goes back (docs/spec/rules.md "Money").
//!
//! Every payment into a tender's accounts appends to the tender's sealed chain, so holding those
//! tips orders the batches that pay into one tender, whichever writer or server writes them: each
//! decides on the balances and payers the batches before it committed, never on the same stale
//! ones (a fee earned twice, an overpayment or a shared payer missed).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, Statement,
};

use super::ledger::{post, postings_of_kind};
use tenderhall_model::deposit as rules;

use tenderhall_model::state::AccountKind;

use crate::account::store::organizations;
use crate::audit::Chain;
use crate::audit::store::{self as audit, Tips};
use crate::deposit::accounts::{deposit, fee_account, fee_income};
use crate::deposit::store::{deposit_payers, virtual_accounts};
use crate::error::{DomainError, DomainResult};
use crate::store::rows::{Inserts, pairs_in};
use crate::tender::store::tenders;

/// A payer already recorded for a deposit account of one of the batch's tenders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KnownPayer {
    pub payer_account: String,
    pub account_no: String,
    pub tender_id: String,
    pub organization_id: String,
}

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
    /// The recorded payers of the batch's (payer, tender) pairs.
    payers: Vec<KnownPayer>,
    /// The sealed chains of the accounts' tenders, locked until the commit.
    pub tips: Tips,
}

/// One account as the batch reads it.
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

/// PostgreSQL: the tips locked, and the accounts read, in one statement. The accounts, balances
/// and payers are read in the statement's snapshot, taken before the tips' locks were granted; each
/// tip comes back both as locked (its newest version) and as that snapshot saw it, and where the
/// two differ a batch that paid into the tender committed in between: the statement runs again,
/// holding the locks, and then reads what that batch wrote. One round trip where nothing contends.
const LOCK_AND_READ: &str = r#"
WITH locked AS MATERIALIZED (
    SELECT c.chain, c.last_seq, c.last_hash FROM audit_chains c
    WHERE c.chain IN (SELECT $2 || a.tender_id || $3 FROM virtual_accounts a WHERE a.account_no = ANY($1))
    ORDER BY c.chain
    FOR UPDATE
)
SELECT va.account_no, va.kind, va.tender_id, va.lot_id, va.organization_id, va.registration_id,
    va.amount_due_fen, va.currency, va.status, va.created_at,
    t.bid_deadline, t.accelerator, o.basic_account,
    (SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM postings p
        WHERE p.account = (CASE WHEN va.kind = 'fee' THEN $4 ELSE $5 END) || va.account_no) AS held_balance,
    (SELECT CAST(json_agg(json_build_array(dp.payer_account, dp.account_no, dp.organization_id)) AS TEXT)
        FROM deposit_payers dp
        WHERE dp.tender_id = va.tender_id AND dp.payer_account IN (
            SELECT x.payer FROM UNNEST($6::text[], $7::text[]) AS x(account_no, payer)
            WHERE x.account_no = va.account_no)) AS payers,
    (SELECT CAST(json_agg(json_build_array(l.chain, l.last_seq, l.last_hash, s.last_seq)) AS TEXT)
        FROM locked l LEFT JOIN audit_chains s ON s.chain = l.chain) AS tips
FROM virtual_accounts va
LEFT JOIN tenders t ON t.id = va.tender_id
LEFT JOIN organizations o ON o.id = va.organization_id
WHERE va.account_no = ANY($1)
"#;

#[derive(FromQueryResult)]
struct LockedRow {
    #[sea_orm(nested)]
    account: Row,
    payers: Option<String>,
    tips: Option<String>,
}

impl Context {
    /// Locks the sealed chains of the accounts' tenders, then reads the accounts of `paid`
    /// (account number, normalized payer) with their tender, organization and balance, and the
    /// payers recorded for the batch's (payer, tender) pairs.
    pub async fn load(
        txn: &impl ConnectionTrait,
        paid: &[(String, String)],
        now: DateTime<Utc>,
    ) -> DomainResult<Self> {
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            return Self::lock_and_read(txn, paid, now).await;
        }
        // SQLite: the write transaction is already exclusive; the locks only order PostgreSQL.
        let account_nos: Vec<String> = paid.iter().map(|(a, _)| a.clone()).collect();
        let mut context = Self::new(read_accounts(txn, account_nos).await?);
        let chains = context.chains();
        context.tips = audit::lock_or_create_tips(txn, &chains, now).await?;
        let mut wanted: Vec<(String, String)> = paid
            .iter()
            .filter_map(|(account_no, payer)| {
                let tender = &context.accounts.get(account_no)?.tender_id;
                Some((payer.clone(), tender.clone()))
            })
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if !wanted.is_empty() {
            context.payers = deposit_payers::Entity::find()
                .filter(pairs_in(
                    txn.get_database_backend(),
                    (
                        deposit_payers::Column::PayerAccount,
                        deposit_payers::Column::TenderId,
                    ),
                    wanted,
                ))
                .all(txn)
                .await?
                .into_iter()
                .map(|p| KnownPayer {
                    payer_account: p.payer_account,
                    account_no: p.account_no,
                    tender_id: p.tender_id,
                    organization_id: p.organization_id,
                })
                .collect();
        }
        Ok(context)
    }

    async fn lock_and_read(
        txn: &impl ConnectionTrait,
        paid: &[(String, String)],
        now: DateTime<Utc>,
    ) -> DomainResult<Self> {
        let mut account_nos: Vec<String> = paid.iter().map(|(a, _)| a.clone()).collect();
        account_nos.sort_unstable();
        account_nos.dedup();
        let (pair_accounts, pair_payers): (Vec<String>, Vec<String>) = paid.iter().cloned().unzip();
        let (before, after) = Chain::TENDER_SEALED;
        let statement = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            LOCK_AND_READ,
            [
                account_nos.into(),
                before.into(),
                after.into(),
                fee_account("").into(),
                deposit("").into(),
                pair_accounts.into(),
                pair_payers.into(),
            ],
        );
        // At most: a first read, one after creating the tips of chains not yet begun, one after
        // waiting for another batch; by then every lock is held and nothing can move.
        for _ in 0..3 {
            let rows = LockedRow::find_by_statement(statement.clone())
                .all(txn)
                .await?;
            let mut tips = Tips::new();
            let mut stale = false;
            let mut payers = Vec::new();
            let mut accounts = Vec::with_capacity(rows.len());
            for (i, row) in rows.into_iter().enumerate() {
                // The same tips on every row (one uncorrelated subquery): read them once.
                if i == 0 {
                    let locked: Vec<(String, i64, String, Option<i64>)> =
                        parse_json(row.tips.as_deref())?;
                    for (chain, seq, hash, seen) in locked {
                        stale |= seen != Some(seq);
                        tips.insert(chain, (seq, hash));
                    }
                }
                let known: Vec<(String, String, String)> = parse_json(row.payers.as_deref())?;
                payers.extend(known.into_iter().map(
                    |(payer_account, account_no, organization_id)| KnownPayer {
                        payer_account,
                        account_no,
                        tender_id: row.account.tender_id.clone(),
                        organization_id,
                    },
                ));
                accounts.push(row.account);
            }
            let mut context = Self::new(accounts);
            let missing: Vec<String> = context
                .chains()
                .into_iter()
                .filter(|chain| !tips.contains_key(chain))
                .collect();
            if !missing.is_empty() {
                audit::lock_or_create_tips(txn, &missing, now).await?;
                continue;
            }
            if stale {
                continue;
            }
            payers.sort_by(|a, b| {
                (&a.payer_account, &a.account_no).cmp(&(&b.payer_account, &b.account_no))
            });
            payers.dedup();
            context.payers = payers;
            context.tips = tips;
            return Ok(context);
        }
        Err(DomainError::internal(
            "the tenders' audit chains kept moving while a notification batch held them",
        ))
    }

    fn new(rows: Vec<Row>) -> Self {
        let mut context = Self {
            accounts: HashMap::new(),
            tenders: HashMap::new(),
            basic_accounts: HashMap::new(),
            held_before: HashMap::new(),
            payers: Vec::new(),
            tips: Tips::new(),
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
        context
    }

    /// The sealed chains of the accounts' tenders, in name order (the order they are locked in).
    fn chains(&self) -> Vec<String> {
        let chains: BTreeSet<String> = self
            .accounts
            .values()
            .map(|a| Chain::tender_sealed(&a.tender_id).as_str().to_owned())
            .collect();
        chains.into_iter().collect()
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(text: Option<&str>) -> DomainResult<Vec<T>> {
    text.map_or(Ok(Vec::new()), |t| {
        serde_json::from_str(t).map_err(DomainError::internal)
    })
}

/// SQLite: one query for the accounts with their tender, their organization and what they hold.
async fn read_accounts(
    txn: &impl ConnectionTrait,
    account_nos: Vec<String>,
) -> DomainResult<Vec<Row>> {
    use sea_orm::JoinType;
    let to_tender = virtual_accounts::Entity::belongs_to(tenders::Entity)
        .from(virtual_accounts::Column::TenderId)
        .to(tenders::Column::Id)
        .into();
    let to_organization = virtual_accounts::Entity::belongs_to(organizations::Entity)
        .from(virtual_accounts::Column::OrganizationId)
        .to(organizations::Column::Id)
        .into();
    Ok(virtual_accounts::Entity::find()
        .filter(virtual_accounts::Column::AccountNo.is_in(account_nos))
        .join(JoinType::LeftJoin, to_tender)
        .join(JoinType::LeftJoin, to_organization)
        .column_as(held_balance(), "held_balance")
        .column(tenders::Column::BidDeadline)
        .column(tenders::Column::Accelerator)
        .column(organizations::Column::BasicAccount)
        .into_model::<Row>()
        .all(txn)
        .await?)
}

/// The balance of the ledger account a virtual account's money is held in ([`held_by`]), as a
/// column of a query on `virtual_accounts` (SQLite's placeholders).
fn held_balance() -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust_with_values(
        "(SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM postings p WHERE \
         p.account = (CASE WHEN \"virtual_accounts\".\"kind\" = 'fee' THEN ? ELSE ? END) \
         || \"virtual_accounts\".\"account_no\")",
        [fee_account(""), deposit("")],
    )
}

/// The ledger account a virtual account's money is held in.
pub(super) fn held_by(acct: &virtual_accounts::Model) -> String {
    if acct.kind == AccountKind::Fee.as_str() {
        fee_account(&acct.account_no)
    } else {
        deposit(&acct.account_no)
    }
}

/// After a batch's payments are posted, each account they paid into is settled once: a fee
/// received in full is earned; the payers of deposits are checked (实施条例 Art 26, 40); and what
/// was paid beyond what is due goes back within 5 days (docs/spec/rules.md "Money"). True when a refund was
/// booked: its audit entry moved a chain tip the batch read.
pub(super) async fn settle(
    txn: &impl ConnectionTrait,
    inserts: &mut Inserts,
    context: &Context,
    paid: &[(&virtual_accounts::Model, (String, i64))],
    now: DateTime<Utc>,
) -> DomainResult<bool> {
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
        context.payers.clone(),
        &payers,
        now,
    )
    .await?;
    let mut refunded = false;
    let mut paid_now: HashMap<&str, i64> = HashMap::new();
    for (acct, (_, amount)) in paid {
        *paid_now.entry(acct.account_no.as_str()).or_default() += amount;
    }
    for acct in &accounts {
        let held = held_by(acct);
        let kind = AccountKind::parse(&acct.kind).ok_or_else(|| {
            DomainError::internal(format!("account {} has a bad kind", acct.account_no))
        })?;
        let fee_earned = kind == AccountKind::Fee
            && !postings_of_kind(txn, &held, "fee_earned").await?.is_empty();
        // Balances are credits (negative) on the ledger; the rule reads what is held (positive).
        let decided = rules::settle(&rules::PaidAccount {
            kind,
            amount_due_fen: acct.amount_due_fen,
            held_before_fen: -context
                .held_before
                .get(&acct.account_no)
                .copied()
                .unwrap_or(0),
            paid_now_fen: paid_now.get(acct.account_no.as_str()).copied().unwrap_or(0),
            fee_earned,
        });
        if decided.earn_fee_fen > 0 {
            let currency: crate::money::Currency =
                acct.currency.parse().map_err(DomainError::internal)?;
            earn_fee(txn, acct, &held, currency, decided.earn_fee_fen, now).await?;
        }
        if decided.excess_fen > 0 {
            let accelerator = context.tenders.get(&acct.tender_id).map_or(1, |t| t.1);
            let due_by = super::refund::refund_due_by(
                txn,
                super::refund::RefundReason::Overpaid,
                false,
                accelerator,
                now,
            )
            .await?;
            // The refund is booked from the balance in the database: the batch's payments first.
            inserts.flush(txn).await?;
            super::refund::book_excess_refund(txn, acct, &held, decided.keep_fen, due_by, now)
                .await?;
            refunded = true;
        }
    }
    Ok(refunded)
}

/// Earns a fee the rule found paid in full (实施条例 Art 16): it moves from the fee account to the
/// tender's fee income, in the caller's transaction.
async fn earn_fee(
    txn: &impl ConnectionTrait,
    acct: &virtual_accounts::Model,
    held: &str,
    currency: crate::money::Currency,
    fee_fen: i64,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    post(
        txn,
        "fee_earned",
        Some(&acct.tender_id),
        &acct.account_no,
        "document fee received in full",
        currency,
        &[
            (held.to_owned(), fee_fen),
            (fee_income(&acct.tender_id), -fee_fen),
        ],
        now,
    )
    .await?;
    Ok(())
}
