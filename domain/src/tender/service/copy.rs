//! Tendering again (重新招标): a lot that failed, or a cancelled tender, is tendered anew as a
//! copy of the tender (招标投标法 Art 28; 实施条例 Art 44; docs/spec/evaluation.md "A lot that
//! fails"). The copy is a new draft with the same kind, procedure, lots, money and evaluation
//! set-up; the owner sets a new deadline and publishes it under the rules then in force. An auction
//! lot's reserve is not copied: it stays sealed to the old lot's key, and the seller sets it again.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::query::Tender;
use super::{create_draft_copying, load_owned};
use crate::account::Principal;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::TenderId;
use crate::store::begin_write;
use crate::tender::{LotStatus, TenderStatus};

/// Copies `tender` into a new draft for its owner, when a lot of it failed or it was cancelled.
/// Only the failed lots are copied from a tender that still has lots in progress.
pub async fn copy(
    db: &DatabaseConnection,
    master: &crate::keys::MasterKey,
    principal: &Principal,
    tender: &TenderId,
    sandbox: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    let txn = begin_write(db).await?;
    let source = load_owned(&txn, principal, tender).await?;
    txn.rollback().await?;
    let cancelled = source.status == TenderStatus::Cancelled;
    let failed: Vec<String> = source
        .lots
        .iter()
        .filter(|l| l.status == LotStatus::Failed)
        .map(|l| l.id.clone())
        .collect();
    if !cancelled && failed.is_empty() {
        return Err(DomainError::Refused {
            code: ErrorCode::NothingToRetender,
            message: Text::new(
                "Only a cancelled tender, or one with a failed lot, is tendered again as a copy.",
                "仅已终止的项目或有流标标段的项目可复制后重新招标。",
            ),
        });
    }
    let mut input = source.to_input();
    if !cancelled {
        input.lots.retain(|l| failed.contains(&l.id));
    }
    input.accelerator = Some(source.accelerator);
    // An agency copies for the tenderer it acted for, under its mandate as always.
    if source.acted_for_by(principal) {
        input.tenderer_id = Some(source.tenderer_org_id.clone());
    }
    create_draft_copying(
        db,
        master,
        principal,
        input,
        sandbox,
        Some(&source.id),
        ip,
        now,
    )
    .await
}
