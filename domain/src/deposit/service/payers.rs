//! Who paid a deposit (docs/spec/rules.md "Money"): from the bidder's registered basic account (实施条例
//! Art 26), and never from the account that paid another bidder's deposit in the same tender
//! (实施条例 Art 40). What does not hold becomes a flag for the supervisors.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait};

use super::credit::KnownPayer;
use crate::deposit::store::{deposit_flags, deposit_payers, virtual_accounts};
use crate::error::DomainResult;
use crate::store::rows::Inserts;

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

/// Flags the deposits of `paid` (account, payer) whose payer is not the bidder's basic account, or paid
/// another bidder's deposit in the tender; `accounts`, `basic_accounts` and `known` (the payers
/// recorded for the batch's (payer, tender) pairs) are what the batch read, under its tenders'
/// locks. The payers first seen go into `inserts`, written with the batch's audit entries.
pub(super) async fn flag_payers(
    txn: &impl ConnectionTrait,
    inserts: &mut Inserts,
    accounts: &HashMap<String, virtual_accounts::Model>,
    basic_accounts: &HashMap<String, Option<String>>,
    mut known: Vec<KnownPayer>,
    paid: &[(&virtual_accounts::Model, String)],
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let mut pairs: Vec<(&virtual_accounts::Model, &str)> = paid
        .iter()
        .filter(|(a, _)| a.kind == tenderhall_model::state::AccountKind::Deposit.as_str())
        .map(|(a, p)| (*a, p.as_str()))
        .collect();
    if pairs.is_empty() {
        return Ok(());
    }
    pairs.sort_by(|x, y| (&x.0.account_no, x.1).cmp(&(&y.0.account_no, y.1)));
    pairs.dedup_by(|x, y| x.0.account_no == y.0.account_no && x.1 == y.1);
    for (acct, payer) in &pairs {
        let basic = basic_accounts
            .get(&acct.organization_id)
            .and_then(Option::as_deref);
        if tenderhall_model::deposit::payer_mismatch(basic, payer) {
            add_flag(
                txn,
                acct,
                "payer_mismatch",
                payer,
                format!(
                    "paid from {payer}, not the registered basic account {}",
                    basic.unwrap_or("(none registered)")
                ),
                now,
            )
            .await?;
        }
    }
    let mut new_pairs = Vec::new();
    for (acct, payer) in &pairs {
        if !known
            .iter()
            .any(|k| k.payer_account == *payer && k.account_no == acct.account_no)
        {
            known.push(KnownPayer {
                payer_account: (*payer).to_owned(),
                account_no: acct.account_no.clone(),
                tender_id: acct.tender_id.clone(),
                organization_id: acct.organization_id.clone(),
            });
            new_pairs.push(deposit_payers::ActiveModel {
                payer_account: Set((*payer).to_owned()),
                account_no: Set(acct.account_no.clone()),
                tender_id: Set(acct.tender_id.clone()),
                organization_id: Set(acct.organization_id.clone()),
                first_paid_at: Set(now),
            });
        }
    }
    inserts.add_on_conflict(
        new_pairs,
        Some(
            OnConflict::columns([
                deposit_payers::Column::PayerAccount,
                deposit_payers::Column::AccountNo,
            ])
            .do_nothing()
            .to_owned(),
        ),
    )?;
    for (acct, payer) in &pairs {
        let this = (
            *payer,
            acct.tender_id.as_str(),
            acct.organization_id.as_str(),
        );
        for other in known.iter().filter(|k| {
            let that = (
                k.payer_account.as_str(),
                k.tender_id.as_str(),
                k.organization_id.as_str(),
            );
            tenderhall_model::deposit::shared_payer(this, that)
        }) {
            let Some(other_acct) = accounts.get(&other.account_no).cloned() else {
                let found = virtual_accounts::Entity::find_by_id(other.account_no.clone())
                    .one(txn)
                    .await?;
                if let Some(found) = found {
                    shared_payer(txn, acct, &found, payer, now).await?;
                }
                continue;
            };
            shared_payer(txn, acct, &other_acct, payer, now).await?;
        }
    }
    Ok(())
}

/// Flags both accounts paid from one payer account.
async fn shared_payer(
    txn: &impl ConnectionTrait,
    a: &virtual_accounts::Model,
    b: &virtual_accounts::Model,
    payer: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let detail = |x: &virtual_accounts::Model, y: &virtual_accounts::Model| {
        format!(
            "the deposits of {} and {} were paid from the same account {payer}",
            x.organization_id, y.organization_id
        )
    };
    add_flag(txn, a, "shared_payer", payer, detail(a, b), now).await?;
    add_flag(txn, b, "shared_payer", payer, detail(b, a), now).await
}
