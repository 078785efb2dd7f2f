//! Who paid a deposit (docs/spec/rules.md "Money"): from the bidder's registered basic account (实施条例
//! Art 26), and never from the account that paid another bidder's deposit in the same tender
//! (实施条例 Art 40). The batch's plan decides; this writes its new payers and its flags for the
//! supervisors with the batch's other rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use tenderhall_model::deposit::batch::Plan;

use crate::deposit::store::batch::Loaded;
use crate::deposit::store::{deposit_flags, deposit_payers, virtual_accounts};
use crate::error::DomainResult;
use crate::store::rows::Inserts;

/// Adds the plan's new payers and flags to `inserts`. A flag on an account the batch did not pay
/// into (the other bidder of a shared payer, paid by an earlier batch) reads that account first.
pub(super) async fn queue(
    txn: &impl ConnectionTrait,
    inserts: &mut Inserts,
    loaded: &Loaded,
    plan: &Plan,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let payers = plan.new_payers.iter().map(|p| deposit_payers::ActiveModel {
        payer_account: Set(p.payer_account.clone()),
        account_no: Set(p.account_no.clone()),
        tender_id: Set(p.tender_id.clone()),
        organization_id: Set(p.organization_id.clone()),
        first_paid_at: Set(now),
    });
    inserts.add_on_conflict(
        payers.collect(),
        Some(
            OnConflict::columns([
                deposit_payers::Column::PayerAccount,
                deposit_payers::Column::AccountNo,
            ])
            .do_nothing()
            .to_owned(),
        ),
    )?;
    if plan.flags.is_empty() {
        return Ok(());
    }
    // (tender, lot, organization) of each flagged account.
    let mut owners: HashMap<String, (String, String, String)> = loaded
        .accounts
        .values()
        .map(|a| {
            (
                a.account_no.clone(),
                (
                    a.tender_id.clone(),
                    a.lot_id.clone(),
                    a.organization_id.clone(),
                ),
            )
        })
        .collect();
    let others: Vec<String> = plan
        .flags
        .iter()
        .filter(|f| !owners.contains_key(&f.account_no))
        .map(|f| f.account_no.clone())
        .collect();
    if !others.is_empty() {
        for a in virtual_accounts::Entity::find()
            .filter(virtual_accounts::Column::AccountNo.is_in(others))
            .all(txn)
            .await?
        {
            owners.insert(a.account_no, (a.tender_id, a.lot_id, a.organization_id));
        }
    }
    let flags = plan.flags.iter().filter_map(|flag| {
        let (tender_id, lot_id, organization_id) = owners.get(&flag.account_no)?.clone();
        Some(deposit_flags::ActiveModel {
            id: Set(format!("flg_{}", uuid::Uuid::now_v7().simple())),
            tender_id: Set(tender_id),
            lot_id: Set(lot_id),
            kind: Set(flag.kind.as_str().to_owned()),
            account_no: Set(flag.account_no.clone()),
            organization_id: Set(organization_id),
            payer_account: Set(flag.payer_account.clone()),
            detail: Set(flag.detail.clone()),
            created_at: Set(now),
        })
    });
    // Raised before (by an earlier batch): stored once.
    inserts.add_on_conflict(
        flags.collect(),
        Some(
            OnConflict::columns([
                deposit_flags::Column::Kind,
                deposit_flags::Column::AccountNo,
                deposit_flags::Column::PayerAccount,
            ])
            .do_nothing()
            .to_owned(),
        ),
    )?;
    Ok(())
}
