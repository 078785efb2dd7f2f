//! The lot's and the tender's status as the evaluation moves on (docs/spec/evaluation.md "Tender
//! and lot status"; the rule is `tender::settle`). Each is called inside the transaction of the
//! event that moves it, so the status never disagrees with the records.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::super::store::lot_awards;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::DomainResult;
use crate::tender::settle::settled_status;
use crate::tender::store::{lots, tenders};
use crate::tender::{LotStatus, TenderStatus};

/// An opened lot whose committee is seated is being evaluated. Called when the draw completes and
/// when the lot opens, whichever comes last.
pub(crate) async fn mark_evaluating_if_seated(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    lot_id: &str,
) -> DomainResult<()> {
    let opened = lots::Entity::find_by_id((tender_id.to_owned(), lot_id.to_owned()))
        .one(txn)
        .await?
        .is_some_and(|l| l.status == LotStatus::Opened.as_str());
    if opened
        && !crate::draw::store::queries::committee(txn, tender_id, lot_id)
            .await?
            .is_empty()
    {
        crate::tender::store::queries::set_lot_status(
            txn,
            tender_id,
            lot_id,
            LotStatus::Evaluating.as_str(),
        )
        .await?;
    }
    Ok(())
}

/// Moves the tender to `awarded` or `complete` when its lots say so, with its audit entry.
pub(crate) async fn settle_tender_in(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(tender) = tenders::Entity::find_by_id(tender_id.to_owned())
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    if !matches!(
        TenderStatus::parse(&tender.status),
        Some(TenderStatus::Closed | TenderStatus::Awarded)
    ) {
        return Ok(());
    }
    let contracted: Vec<String> = lot_awards::Entity::find()
        .filter(lot_awards::Column::TenderId.eq(tender_id))
        .all(txn)
        .await?
        .into_iter()
        .filter(|a| a.contract_at.is_some())
        .map(|a| a.lot_id)
        .collect();
    let lots: Vec<(LotStatus, bool)> = lots::Entity::find()
        .filter(lots::Column::TenderId.eq(tender_id))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|l| LotStatus::parse(&l.status).map(|s| (s, contracted.contains(&l.lot_id))))
        .collect();
    let Some(status) = settled_status(&lots) else {
        return Ok(());
    };
    if tender.status == status.as_str() {
        return Ok(());
    }
    tenders::Entity::update(tenders::ActiveModel {
        id: Set(tender.id.clone()),
        status: Set(status.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(tender_id),
            &Actor::system(),
            "tender.status",
            format!("tender:{tender_id}"),
        )
        .details(json!({"from": tender.status, "to": status.as_str()})),
        now,
    )
    .await?;
    Ok(())
}
