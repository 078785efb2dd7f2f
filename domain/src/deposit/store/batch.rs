//! The read a batch of bank payments decides on (docs/spec/rules.md "Money"): the sealed audit
//! chains of the accounts' tenders locked, then the accounts read once, with what they hold,
//! whether a fee was earned, their tender's deadline and accelerator, their organization's basic
//! account, and the payers recorded for the batch's (payer, tender) pairs.
//!
//! Every payment into a tender's accounts appends to the tender's sealed chain, so holding those
//! tips orders the batches that pay into one tender, whichever writer or server writes them: each
//! decides on the balances and payers the batches before it committed, never on the same stale
//! ones (a fee earned twice, an overpayment or a shared payer missed).
//!
//! The tender's, the organization's and the chains' columns come from subqueries their own stores
//! write (`deadline_and_accelerator_sql`, `basic_account_sql`, `lock_tips_sql`), so this statement
//! reads other areas' tables only through them.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, QueryFilter, Statement,
};
use tenderhall_model::deposit::batch::{Account, KnownPayer};
use tenderhall_model::state::{AccountKind, AccountStatus};

use super::deposit_payers;
use crate::account::store::queries::basic_account_sql;
use crate::audit::Chain;
use crate::audit::store::{self as audit, Tips, lock_tips_sql, tips_as_json_sql};
use crate::deposit::accounts::{deposit, fee_account};
use crate::error::{DomainError, DomainResult};
use crate::store::rows::pairs_in;
use crate::tender::store::queries::deadline_and_accelerator_sql;

/// What a batch read, under its tenders' locks.
pub struct Loaded {
    /// The accounts paid into, by number, as the rules read them.
    pub accounts: HashMap<String, Account>,
    /// By tender id: its bid deadline and accelerator.
    pub tenders: HashMap<String, (DateTime<Utc>, u32)>,
    /// The payers recorded for the batch's (payer, tender) pairs.
    pub payers: Vec<KnownPayer>,
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
    amount_due_fen: i64,
    currency: String,
    status: String,
    bid_deadline: Option<DateTime<Utc>>,
    accelerator: Option<i32>,
    basic_account: Option<String>,
    held_balance: i64,
    fee_earned: bool,
}

#[derive(FromQueryResult)]
struct LockedRow {
    #[sea_orm(nested)]
    account: Row,
    payers: Option<String>,
    tips: Option<String>,
}

/// The columns both backends read beside the account's own, over the account row `va`, with
/// `fee` and `deposit` the placeholders of the ledger accounts' prefixes.
fn read_columns(fee: &str, deposit: &str) -> String {
    let [deadline, accelerator] = deadline_and_accelerator_sql("va.tender_id");
    let held =
        format!("(CASE WHEN va.kind = 'fee' THEN {fee} ELSE {deposit} END) || va.account_no");
    format!(
        "{deadline} AS bid_deadline, {accelerator} AS accelerator, \
         {basic} AS basic_account, \
         (SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM postings p \
            WHERE p.account = {held}) AS held_balance, \
         (va.kind = 'fee' AND EXISTS (SELECT 1 FROM postings p \
            JOIN journal_entries j ON j.id = p.entry_id \
            WHERE p.account = {fee} || va.account_no AND j.kind = 'fee_earned')) AS fee_earned",
        basic = basic_account_sql("va.organization_id"),
    )
}

/// PostgreSQL: the tips locked, and the accounts read, in one statement. The accounts, balances
/// and payers are read in the statement's snapshot, taken before the tips' locks were granted; each
/// tip comes back both as locked (its newest version) and as that snapshot saw it, and where the
/// two differ a batch that paid into the tender committed in between: the statement runs again,
/// holding the locks, and then reads what that batch wrote. One round trip where nothing contends.
fn lock_and_read_sql() -> String {
    let chains =
        "SELECT $2 || a.tender_id || $3 FROM virtual_accounts a WHERE a.account_no = ANY($1)";
    format!(
        "WITH locked AS MATERIALIZED ({lock}) \
         SELECT va.account_no, va.kind, va.tender_id, va.lot_id, va.organization_id, \
            va.amount_due_fen, va.currency, va.status, {columns}, \
            (SELECT CAST(json_agg(json_build_array(dp.payer_account, dp.account_no, dp.organization_id)) AS TEXT) \
                FROM deposit_payers dp \
                WHERE dp.tender_id = va.tender_id AND dp.payer_account IN ( \
                    SELECT x.payer FROM UNNEST($6::text[], $7::text[]) AS x(account_no, payer) \
                    WHERE x.account_no = va.account_no)) AS payers, \
            {tips} AS tips \
         FROM virtual_accounts va WHERE va.account_no = ANY($1)",
        lock = lock_tips_sql(chains),
        columns = read_columns("$4", "$5"),
        tips = tips_as_json_sql("locked"),
    )
}

/// Locks the sealed chains of the accounts' tenders, then reads the accounts of `paid`
/// (account number, normalized payer) and the payers recorded for the batch's (payer, tender)
/// pairs.
pub async fn lock_and_read(
    txn: &impl ConnectionTrait,
    paid: &[(String, String)],
    now: DateTime<Utc>,
) -> DomainResult<Loaded> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        return lock_and_read_postgres(txn, paid, now).await;
    }
    // SQLite: the write transaction is already exclusive; the locks only order PostgreSQL.
    let account_nos: Vec<String> = paid.iter().map(|(a, _)| a.clone()).collect();
    let mut loaded = Loaded::new(read_accounts(txn, account_nos).await?)?;
    loaded.tips = audit::lock_or_create_tips(txn, &loaded.chains(), now).await?;
    let mut wanted: Vec<(String, String)> = paid
        .iter()
        .filter_map(|(account_no, payer)| {
            let tender = &loaded.accounts.get(account_no)?.tender_id;
            Some((payer.clone(), tender.clone()))
        })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    if !wanted.is_empty() {
        loaded.payers = deposit_payers::Entity::find()
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
    Ok(loaded)
}

async fn lock_and_read_postgres(
    txn: &impl ConnectionTrait,
    paid: &[(String, String)],
    now: DateTime<Utc>,
) -> DomainResult<Loaded> {
    let mut account_nos: Vec<String> = paid.iter().map(|(a, _)| a.clone()).collect();
    account_nos.sort_unstable();
    account_nos.dedup();
    let (pair_accounts, pair_payers): (Vec<String>, Vec<String>) = paid.iter().cloned().unzip();
    let (before, after) = Chain::TENDER_SEALED;
    let statement = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        lock_and_read_sql(),
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
            payers.extend(
                known
                    .into_iter()
                    .map(|(payer_account, account_no, organization_id)| KnownPayer {
                        payer_account,
                        account_no,
                        tender_id: row.account.tender_id.clone(),
                        organization_id,
                    }),
            );
            accounts.push(row.account);
        }
        let mut loaded = Loaded::new(accounts)?;
        let missing: Vec<String> = loaded
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
        payers.sort();
        payers.dedup();
        loaded.payers = payers;
        loaded.tips = tips;
        return Ok(loaded);
    }
    Err(DomainError::internal(
        "the tenders' audit chains kept moving while a notification batch held them",
    ))
}

impl Loaded {
    fn new(rows: Vec<Row>) -> DomainResult<Self> {
        let mut loaded = Self {
            accounts: HashMap::new(),
            tenders: HashMap::new(),
            payers: Vec::new(),
            tips: Tips::new(),
        };
        for row in rows {
            if let (Some(deadline), Some(accelerator)) = (row.bid_deadline, row.accelerator) {
                let accelerator = u32::try_from(accelerator).unwrap_or(1);
                loaded
                    .tenders
                    .insert(row.tender_id.clone(), (deadline, accelerator));
            }
            let bad = |what: &str| {
                DomainError::internal(format!("account {} has a bad {what}", row.account_no))
            };
            let account = Account {
                kind: AccountKind::parse(&row.kind).ok_or_else(|| bad("kind"))?,
                status: AccountStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
                account_no: row.account_no.clone(),
                currency: row.currency,
                tender_id: row.tender_id,
                lot_id: row.lot_id,
                organization_id: row.organization_id,
                amount_due_fen: row.amount_due_fen,
                // Balances are credits (negative) on the ledger; the rules read what is held.
                held_before_fen: -row.held_balance,
                fee_earned: row.fee_earned,
                basic_account: row.basic_account,
            };
            loaded.accounts.insert(row.account_no, account);
        }
        Ok(loaded)
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

/// SQLite: one query for the accounts, with the same columns.
async fn read_accounts(
    txn: &impl ConnectionTrait,
    account_nos: Vec<String>,
) -> DomainResult<Vec<Row>> {
    if account_nos.is_empty() {
        return Ok(Vec::new());
    }
    let list = (3..account_nos.len() + 3)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT va.account_no, va.kind, va.tender_id, va.lot_id, va.organization_id, \
            va.amount_due_fen, va.currency, va.status, {columns} \
         FROM virtual_accounts va WHERE va.account_no IN ({list})",
        columns = read_columns("?1", "?2"),
    );
    let mut values: Vec<sea_orm::Value> = vec![fee_account("").into(), deposit("").into()];
    values.extend(account_nos.into_iter().map(Into::into));
    Ok(Row::find_by_statement(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        sql,
        values,
    ))
    .all(txn)
    .await?)
}
