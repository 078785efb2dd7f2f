//! What a batch's plan (`tenderhall_model::deposit::batch::plan`) does to the accounts it paid
//! into, written: fees earned, overpayments refunded within 5 days, payers recorded and flagged
//! (实施条例 Art 16, 26, 40; docs/spec/rules.md "Money"). Everything but a refund is added to the
//! batch's one statement.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use tenderhall_model::deposit::batch::{Account, Plan};
use tenderhall_model::state::AccountKind;

use super::ledger::{Entry, queue_entries};
use super::refund::{RefundReason, book_overpaid, refund_due_by};
use crate::deposit::accounts::{deposit, fee_account, fee_income};
use crate::deposit::store::batch::Loaded;
use crate::error::{DomainError, DomainResult};
use crate::store::rows::Inserts;

/// The ledger account a virtual account's money is held in.
pub(super) fn held_by(account: &Account) -> String {
    match account.kind {
        AccountKind::Fee => fee_account(&account.account_no),
        AccountKind::Deposit => deposit(&account.account_no),
    }
}

/// Writes the settlements, payers and flags of `plan`. True when a refund was booked: its audit
/// entry moved a chain tip the batch read.
pub(super) async fn apply(
    txn: &impl ConnectionTrait,
    inserts: &mut Inserts,
    loaded: &Loaded,
    plan: &Plan,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    super::payers::queue(txn, inserts, loaded, plan, now).await?;
    let mut earned = Vec::new();
    let mut refunded = false;
    for (account_no, settlement) in &plan.settlements {
        let account = loaded.accounts.get(account_no).ok_or_else(|| {
            DomainError::internal(format!("the plan settles account {account_no}, not read"))
        })?;
        let held = held_by(account);
        let currency: crate::money::Currency =
            account.currency.parse().map_err(DomainError::internal)?;
        if settlement.earn_fee_fen > 0 {
            let fee = settlement.earn_fee_fen;
            earned.push(Entry {
                kind: "fee_earned".to_owned(),
                tender_id: Some(account.tender_id.clone()),
                reference: account.account_no.clone(),
                memo: "document fee received in full".to_owned(),
                currency,
                lines: vec![(held.clone(), fee), (fee_income(&account.tender_id), -fee)],
            });
        }
        if settlement.excess_fen > 0 {
            let accelerator = loaded.tenders.get(&account.tender_id).map_or(1, |t| t.1);
            let due_by =
                refund_due_by(txn, RefundReason::Overpaid, false, accelerator, now).await?;
            book_overpaid(
                txn,
                account.into(),
                &held,
                settlement.excess_fen,
                due_by,
                now,
            )
            .await?;
            refunded = true;
        }
    }
    queue_entries(inserts, &earned, now)?;
    Ok(refunded)
}
