//! Reconciliation: a bank statement against the platform's records. What the bank booked that the
//! platform lacks (a notification that never arrived, a refund paid but not confirmed), what the
//! platform holds that the bank lacks, and what differs.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use tenderhall_model::state::RefundStatus;

use crate::deposit::store::{bank_notifications, refunds};
use crate::error::DomainResult;

/// One line of a bank statement (see docs/operations.md for the CSV columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    pub bank_txn_id: String,
    /// `in` (a payment received) or `out` (a refund paid).
    pub direction: String,
    pub account_no: String,
    pub amount_fen: i64,
    pub currency: String,
    pub booked_at: DateTime<Utc>,
    /// For `out`: the platform's refund id the bank paid.
    pub reference: String,
}

/// What reconciliation found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    pub matched: u64,
    /// The bank booked it; the platform has no record (or no confirmation) of it.
    pub bank_only: Vec<String>,
    /// The platform recorded it within the statement's period; the bank did not book it.
    pub platform_only: Vec<String>,
    /// Both have it, with another amount or account.
    pub differing: Vec<String>,
}

impl Reconciliation {
    pub fn is_clean(&self) -> bool {
        self.bank_only.is_empty() && self.platform_only.is_empty() && self.differing.is_empty()
    }
}

/// Matches `lines` against the notifications and confirmed refunds of the statement's period.
pub async fn reconcile(
    db: &DatabaseConnection,
    lines: &[StatementLine],
) -> DomainResult<Reconciliation> {
    let mut report = Reconciliation::default();
    let (Some(from), Some(to)) = (
        lines.iter().map(|l| l.booked_at).min(),
        lines.iter().map(|l| l.booked_at).max(),
    ) else {
        return Ok(report);
    };
    // The platform receives a notification moments after the bank books it; a day either side
    // keeps a payment at the edge of the period from showing as missing.
    let (from, to) = (
        from - chrono::TimeDelta::days(1),
        to + chrono::TimeDelta::days(1),
    );
    let notes: HashMap<String, bank_notifications::Model> = bank_notifications::Entity::find()
        .filter(bank_notifications::Column::ReceivedAt.between(from, to))
        .all(db)
        .await?
        .into_iter()
        .map(|n| (n.bank_txn_id.clone(), n))
        .collect();
    let paid: HashMap<String, refunds::Model> = refunds::Entity::find()
        .filter(refunds::Column::Status.eq(RefundStatus::Confirmed.as_str()))
        .filter(refunds::Column::ConfirmedAt.between(from, to))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let mut seen_in = HashSet::new();
    let mut seen_out = HashSet::new();
    for line in lines {
        match line.direction.as_str() {
            "in" => {
                let found = match notes.get(&line.bank_txn_id) {
                    Some(n) => Some(n.clone()),
                    None => {
                        bank_notifications::Entity::find_by_id(line.bank_txn_id.clone())
                            .one(db)
                            .await?
                    }
                };
                match found {
                    None => report.bank_only.push(format!(
                        "in {} {} fen to {}: no notification received",
                        line.bank_txn_id, line.amount_fen, line.account_no
                    )),
                    Some(n)
                        if n.amount_fen != line.amount_fen || n.account_no != line.account_no =>
                    {
                        report.differing.push(format!(
                            "in {}: the bank booked {} fen to {}, the platform {} fen to {}",
                            line.bank_txn_id,
                            line.amount_fen,
                            line.account_no,
                            n.amount_fen,
                            n.account_no
                        ))
                    }
                    Some(_) => report.matched += 1,
                }
                seen_in.insert(line.bank_txn_id.clone());
            }
            _ => {
                let found = match paid.get(&line.reference) {
                    Some(r) => Some(r.clone()),
                    None => refunds::Entity::find_by_id(line.reference.clone())
                        .one(db)
                        .await?
                        .filter(|r| r.status == RefundStatus::Confirmed.as_str()),
                };
                match found {
                    None => report.bank_only.push(format!(
                        "out {} {} fen for refund {}: not confirmed on the platform",
                        line.bank_txn_id, line.amount_fen, line.reference
                    )),
                    Some(r) if r.principal_fen + r.interest_fen != line.amount_fen => {
                        report.differing.push(format!(
                            "out {}: the bank paid {} fen, refund {} is {} fen",
                            line.bank_txn_id,
                            line.amount_fen,
                            r.id,
                            r.principal_fen + r.interest_fen
                        ))
                    }
                    Some(_) => report.matched += 1,
                }
                seen_out.insert(line.reference.clone());
            }
        }
    }
    for (id, n) in &notes {
        if !seen_in.contains(id)
            && n.received_at >= from + chrono::TimeDelta::days(1)
            && n.received_at <= to - chrono::TimeDelta::days(1)
        {
            report.platform_only.push(format!(
                "in {id} {} fen to {}: not on the statement",
                n.amount_fen, n.account_no
            ));
        }
    }
    for (id, r) in &paid {
        let at = r.confirmed_at.unwrap_or(r.created_at);
        if !seen_out.contains(id)
            && at >= from + chrono::TimeDelta::days(1)
            && at <= to - chrono::TimeDelta::days(1)
        {
            report.platform_only.push(format!(
                "out refund {id} {} fen: confirmed on the platform, not on the statement",
                r.principal_fen + r.interest_fen
            ));
        }
    }
    report.bank_only.sort();
    report.platform_only.sort();
    report.differing.sort();
    Ok(report)
}
