//! The public input (docs/spec/draws.md "Public input"): fixed only after the commitment, and not
//! by the platform alone. After the lot's opening it is the opening record's hash; before, the
//! random values supervisors (and the tenderer) post after seeing the commitment; with none by the
//! window's end, the first signed audit head published after the commitment.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use super::{DrawContext, lock};
use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::draw::DrawStatus;
use crate::draw::store::{draw_contributions, draws};
use crate::error::{DomainError, DomainResult, ErrorCode};
use crate::id::DrawId;
use crate::store::begin_write;

fn not_awaiting() -> DomainError {
    DomainError::refused(
        ErrorCode::DrawNotAwaitingInput,
        "This draw's public input is fixed already (or its contribution window has ended).",
        "该抽取的公开随机数已确定（或提交期已结束）。",
    )
}

/// Posts a random contribution to a draw's public input: 32 random bytes in lowercase hex, once
/// per organization, by a supervisor or the tender's owner, before the window ends.
pub async fn contribute(
    db: &DatabaseConnection,
    principal: &Principal,
    draw_id: &DrawId,
    value: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let value = value.trim();
    if value.len() != 64
        || !value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(DomainError::invalid(
            "value",
            "Give 32 random bytes as 64 lowercase hex digits (for example the output of `openssl rand -hex 32`).",
            "请提交 32 字节随机数的 64 位小写十六进制形式（例如 `openssl rand -hex 32` 的输出）。",
        ));
    }
    let txn = begin_write(db).await?;
    let draw = lock(&txn, draw_id.as_str()).await?;
    let tender = crate::tender::service::load(&txn, &draw.tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let organization = match &principal.membership {
        Some(m) if principal.is_supervisor() || tender.is_owned_by(principal) => {
            m.organization_id.to_string()
        }
        _ => return Err(DomainError::NotFound),
    };
    if draw.status != DrawStatus::AwaitingInput.as_str() || now >= draw.input_deadline {
        return Err(not_awaiting());
    }
    let existing = draw_contributions::Entity::find_by_id((draw.id.clone(), organization.clone()))
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(DomainError::refused(
            ErrorCode::AlreadyAnswered,
            "Your organization has contributed to this draw already.",
            "贵单位已为该抽取提交过随机数。",
        ));
    }
    draw_contributions::Entity::insert(draw_contributions::ActiveModel {
        draw_id: Set(draw.id.clone()),
        organization_id: Set(organization.clone()),
        account_id: Set(principal.account_id.to_string()),
        value: Set(value.to_owned()),
        at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&draw.tender_id),
            &Actor::account(principal.account_id.as_str(), ip),
            "draw.contribute",
            format!("draw:{}", draw.id),
        )
        .details(json!({"organization_id": organization, "value": value})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The job at the end of the contribution window: fixes the public input from the contributions,
/// or from the first audit head signed after the commitment. `Ok(false)` when no such head exists
/// yet (the job runs again); a draw already past this step is left as it is.
pub async fn fix_input(
    db: &DatabaseConnection,
    ctx: DrawContext<'_>,
    draw_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let txn = begin_write(db).await?;
    let draw = match lock(&txn, draw_id).await {
        Ok(draw) => draw,
        Err(DomainError::NotFound) => return Ok(true),
        Err(e) => return Err(e),
    };
    if draw.status != DrawStatus::AwaitingInput.as_str() {
        return Ok(true);
    }
    if now < draw.input_deadline {
        return Ok(false);
    }
    let contributions = draw_contributions::Entity::find()
        .filter(draw_contributions::Column::DrawId.eq(draw.id.clone()))
        .order_by_asc(draw_contributions::Column::OrganizationId)
        .all(&txn)
        .await?;
    let public_input = if contributions.is_empty() {
        match audit::first_head_after(&txn, draw.created_at).await? {
            Some(head) => format!("head:{}:{}", head.seq, head.digest),
            None => return Ok(false),
        }
    } else {
        let parts: Vec<String> = contributions
            .iter()
            .map(|c| format!("{}:{}", c.organization_id, c.value))
            .collect();
        format!("contributions:{}", parts.join(","))
    };
    set_input(&txn, ctx, &draw, Some(public_input), now).await?;
    txn.commit().await?;
    Ok(true)
}

/// Fixes the public input, ranks, and sends the first invitations.
pub(super) async fn set_input(
    txn: &impl ConnectionTrait,
    ctx: DrawContext<'_>,
    draw: &draws::Model,
    public_input: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(public_input) = public_input else {
        return Ok(());
    };
    draws::Entity::update(draws::ActiveModel {
        id: Set(draw.id.clone()),
        public_input: Set(Some(public_input.clone())),
        status: Set(DrawStatus::Inviting.as_str().to_owned()),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(&draw.tender_id),
            &Actor::system(),
            "draw.input",
            format!("draw:{}", draw.id),
        )
        .details(json!({"public_input": public_input})),
        now,
    )
    .await?;
    let draw = lock(txn, &draw.id).await?;
    super::invite::advance(txn, ctx, &draw, now).await
}
