//! The ledger: posting balanced entries, reading balances, and the invariant check that
//! `tenderhall ledger check` and the tests run.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

use crate::deposit::accounts::BANK;
use crate::deposit::store::{bank_notifications, journal_entries, postings};
use crate::error::{DomainError, DomainResult};
use crate::money::Currency;
use crate::store::rows::Inserts;

/// One side of an entry: an account and a signed amount in fen (debit positive).
pub type Line = (String, i64);

/// Writes one balanced journal entry inside the caller's transaction; refuses an unbalanced one
/// (a bug, never a state to store). Returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn post(
    txn: &impl ConnectionTrait,
    kind: &str,
    tender_id: Option<&str>,
    reference: &str,
    memo: &str,
    currency: Currency,
    lines: &[Line],
    at: DateTime<Utc>,
) -> DomainResult<String> {
    let entry = Entry {
        kind: kind.to_owned(),
        tender_id: tender_id.map(str::to_owned),
        reference: reference.to_owned(),
        memo: memo.to_owned(),
        currency,
        lines: lines.to_vec(),
    };
    let mut ids = post_many(txn, std::slice::from_ref(&entry), at).await?;
    ids.pop()
        .ok_or_else(|| DomainError::internal("posting wrote no entry"))
}

/// A journal entry to post.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: String,
    pub tender_id: Option<String>,
    pub reference: String,
    pub memo: String,
    pub currency: Currency,
    pub lines: Vec<Line>,
}

/// Writes several balanced entries with one INSERT for the entries and one for their lines.
/// Refuses the lot if any is unbalanced. Returns their ids, in order.
pub async fn post_many(
    txn: &impl ConnectionTrait,
    entries: &[Entry],
    at: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let mut inserts = Inserts::new(txn);
    let ids = queue_entries(&mut inserts, entries, at)?;
    inserts.run(txn).await?;
    Ok(ids)
}

/// [`post_many`] into `inserts`, to be written with other rows (the group commit of bank
/// notifications writes a batch's entries with its notifications).
pub fn queue_entries(
    inserts: &mut Inserts,
    entries: &[Entry],
    at: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    for e in entries {
        let sum: i64 = e.lines.iter().map(|(_, a)| *a).sum();
        if sum != 0 || e.lines.len() < 2 || e.lines.iter().any(|(_, a)| *a == 0) {
            return Err(DomainError::internal(format!(
                "refusing an unbalanced journal entry {} {}: {:?}",
                e.kind, e.reference, e.lines
            )));
        }
    }
    let ids: Vec<String> = entries
        .iter()
        .map(|_| format!("jnl_{}", uuid::Uuid::now_v7().simple()))
        .collect();
    let rows: Vec<(&String, &Entry)> = ids.iter().zip(entries).collect();
    let heads = rows.iter().map(|(id, e)| journal_entries::ActiveModel {
        id: Set((*id).clone()),
        at: Set(at),
        kind: Set(e.kind.clone()),
        tender_id: Set(e.tender_id.clone()),
        reference: Set(e.reference.chars().take(128).collect()),
        memo: Set(e.memo.clone()),
    });
    inserts.add(heads.collect())?;
    let lines = rows.iter().flat_map(|(id, e)| {
        e.lines
            .iter()
            .map(|(account, amount)| postings::ActiveModel {
                entry_id: Set((*id).clone()),
                account: Set(account.clone()),
                amount_fen: Set(*amount),
                currency: Set(e.currency.code().to_owned()),
                ..Default::default()
            })
    });
    inserts.add(lines.collect())?;
    Ok(ids)
}

/// The balance of `account` (signed fen, debit positive), summed from its postings by the database.
pub async fn balance(txn: &impl ConnectionTrait, account: &str) -> DomainResult<i64> {
    use sea_orm::sea_query::Expr;
    let sum: Option<i64> = postings::Entity::find()
        .select_only()
        // CAST: PostgreSQL sums BIGINT into NUMERIC.
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)"),
            "balance",
        )
        .filter(postings::Column::Account.eq(account))
        .into_tuple()
        .one(txn)
        .await?;
    Ok(sum.unwrap_or(0))
}

/// The amounts posted to `account` by entries of `kind`, with the entry's time.
pub async fn postings_of_kind(
    txn: &impl ConnectionTrait,
    account: &str,
    kind: &str,
) -> DomainResult<Vec<(DateTime<Utc>, i64)>> {
    postings_of_kinds(txn, account, &[kind]).await
}

/// The amounts posted to `account` by entries of any of `kinds`, with the entry's time.
pub async fn postings_of_kinds(
    txn: &impl ConnectionTrait,
    account: &str,
    kinds: &[&str],
) -> DomainResult<Vec<(DateTime<Utc>, i64)>> {
    let lines = postings::Entity::find()
        .filter(postings::Column::Account.eq(account))
        .all(txn)
        .await?;
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let entries: HashMap<String, journal_entries::Model> = journal_entries::Entity::find()
        .filter(journal_entries::Column::Id.is_in(lines.iter().map(|l| l.entry_id.clone())))
        .filter(journal_entries::Column::Kind.is_in(kinds.iter().copied()))
        .all(txn)
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    Ok(lines
        .into_iter()
        .filter_map(|l| entries.get(&l.entry_id).map(|e| (e.at, l.amount_fen)))
        .collect())
}

/// What the invariant check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerReport {
    pub entries: u64,
    pub postings: u64,
    /// Entries whose postings do not sum to zero (per currency), with their sums.
    pub unbalanced: Vec<(String, i128)>,
    /// Accounts on the wrong side of zero: a liability in debit (the platform paid out more than it
    /// held for someone), or the bank in credit.
    pub wrong_side: Vec<(String, i128)>,
    /// Money the bank notified that the ledger does not show arriving, or the reverse:
    /// (fen notified, fen posted to the bank by payments).
    pub bank_mismatch: Option<(i128, i128)>,
    /// Balances by account, for the report. 128 bits: the bank's balance is every payment ever
    /// received, which a 64-bit sum of fen can outgrow.
    pub balances: BTreeMap<String, i128>,
}

impl LedgerReport {
    pub fn is_sound(&self) -> bool {
        self.unbalanced.is_empty() && self.wrong_side.is_empty() && self.bank_mismatch.is_none()
    }
}

/// The bank account is the one asset (debit-normal); everything else the platform holds is owed to
/// someone (credit-normal).
fn debit_normal(account: &str) -> bool {
    account == BANK
}

/// Amounts are summed in two parts, `amount / SPLIT` and `amount % SPLIT` (see [`check`]).
const SPLIT: i64 = 1_000_000_000;

/// A sum of parts split by [`SPLIT`], whole.
fn joined(high: i64, low: i64) -> i128 {
    i128::from(high) * i128::from(SPLIT) + i128::from(low)
}

/// Proves every entry balances, no account is on the wrong side of zero, and the bank's
/// notifications and the ledger agree on the money that came in. The database sums; the check reads
/// back only the sums (one per account) and what is wrong, in one snapshot, so its memory does not
/// grow with the number of entries.
pub async fn check(db: &DatabaseConnection) -> DomainResult<LedgerReport> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{AccessMode, IsolationLevel, JoinType, PaginatorTrait};
    // One snapshot for every sum: PostgreSQL's default gives each statement its own; a SQLite
    // read transaction keeps its first snapshot (and refuses isolation settings).
    let txn = if crate::store::is_postgres(db) {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    };
    // Exact sums whatever their size: a 64-bit SUM overflows (SQLite raises "integer overflow",
    // PostgreSQL's cast back to BIGINT fails) once enough large amounts add up. Each amount is
    // split into its billions and its remainder (both truncate toward zero on both backends), each
    // part summed in 64 bits (room for billions of rows), and the two joined in 128 bits here.
    let high = || {
        Expr::cust(format!(
            "CAST(COALESCE(SUM(amount_fen / {SPLIT}), 0) AS BIGINT)"
        ))
    };
    let low = || {
        Expr::cust(format!(
            "CAST(COALESCE(SUM(amount_fen % {SPLIT}), 0) AS BIGINT)"
        ))
    };
    let mut report = LedgerReport {
        entries: journal_entries::Entity::find().count(&txn).await?,
        postings: postings::Entity::find().count(&txn).await?,
        ..LedgerReport::default()
    };
    report.unbalanced = postings::Entity::find()
        .select_only()
        .column(postings::Column::EntryId)
        .column_as(high(), "high")
        .column_as(low(), "low")
        .group_by(postings::Column::EntryId)
        .group_by(postings::Column::Currency)
        .having(Expr::cust(format!(
            "SUM(amount_fen / {SPLIT}) <> 0 OR SUM(amount_fen % {SPLIT}) <> 0"
        )))
        .into_tuple::<(String, i64, i64)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(entry, h, l)| (entry, joined(h, l)))
        .filter(|(_, sum)| *sum != 0)
        .collect();
    let balances: Vec<(String, i128)> = postings::Entity::find()
        .select_only()
        .column(postings::Column::Account)
        .column_as(high(), "high")
        .column_as(low(), "low")
        .group_by(postings::Column::Account)
        .into_tuple::<(String, i64, i64)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(account, h, l)| (account, joined(h, l)))
        .collect();
    report.unbalanced.sort();
    for (account, balance) in &balances {
        let wrong = if debit_normal(account) {
            *balance < 0
        } else {
            *balance > 0
        };
        if wrong {
            report.wrong_side.push((account.clone(), *balance));
        }
    }
    report.wrong_side.sort();
    // Money in: every accepted notification is one payment or suspense entry debiting the bank.
    let notified: Option<(i64, i64)> = bank_notifications::Entity::find()
        .select_only()
        .column_as(high(), "high")
        .column_as(low(), "low")
        .into_tuple()
        .one(&txn)
        .await?;
    let notified = notified.map_or(0, |(h, l)| joined(h, l));
    // Interest the bank adds to the collecting account is not a notification.
    let to_entry = postings::Entity::belongs_to(journal_entries::Entity)
        .from(postings::Column::EntryId)
        .to(journal_entries::Column::Id)
        .into();
    let arrived: Option<(i64, i64)> = postings::Entity::find()
        .select_only()
        .column_as(high(), "high")
        .column_as(low(), "low")
        .join(JoinType::InnerJoin, to_entry)
        .filter(journal_entries::Column::Kind.is_in(["payment", "suspense"]))
        .filter(postings::Column::Account.eq(BANK))
        .into_tuple()
        .one(&txn)
        .await?;
    let arrived = arrived.map_or(0, |(h, l)| joined(h, l));
    if notified != arrived {
        report.bank_mismatch = Some((notified, arrived));
    }
    report.balances = balances.into_iter().collect();
    txn.commit().await?;
    Ok(report)
}
