//! Invitations and the walk down the ranking (docs/spec/draws.md "Invitations"): the drawn experts
//! are invited in ranking order; declining, silence past the invitation's time, or a member leaving
//! passes the seat to the next in the ranking (87号令 Art 49), mailed and audited; when every seat
//! is accepted the committee is complete and the secret revealed in the proof.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;
use tenderhall_model::expert::draw::{Answer, seat};

use super::{DrawContext, load_state, lock};
use crate::account::Principal;
use crate::account::service::{random_token, token_hash};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::draw::store::{draw_invitations, draws};
use crate::draw::{DrawStatus, EXPIRY_JOB};
use crate::error::{DomainError, DomainResult, ErrorCode};
use crate::id::{DrawId, ExpertId};
use crate::jobs::{NewJob, service as jobs};
use crate::notify::service::{notify, notify_organization};
use crate::store::begin_write;

/// Invites whoever the walk reaches, and completes or ends the draw when nobody is left to wait
/// for. Called after every change to a draw's answers, in the same transaction.
pub(super) async fn advance(
    txn: &impl ConnectionTrait,
    ctx: DrawContext<'_>,
    draw: &draws::Model,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let state = load_state(txn, draw).await?;
    let Some(ranking) = state.ranking(ctx.master, draw)? else {
        return Ok(());
    };
    let reserves = u32::try_from(draw.reserves).unwrap_or(0);
    let seating = seat(
        &state.groups,
        reserves,
        &ranking,
        &state.seatable,
        &state.answers,
    );
    let tender = crate::tender::store::queries::by_id(txn, &draw.tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    for (expert_id, group) in &seating.to_invite {
        invite(txn, ctx, draw, &tender.title, expert_id, *group, now).await?;
    }
    if !seating.to_invite.is_empty()
        || seating
            .seated
            .iter()
            .any(|(_, _, answer)| *answer == Answer::Pending)
    {
        return Ok(());
    }
    let filled = u32::try_from(seating.seated.len()).unwrap_or(u32::MAX);
    let total = u32::try_from(draw.seats_total).unwrap_or(0);
    let (status, message) = if seating.unfillable == 0 {
        (
            DrawStatus::Complete,
            crate::draw::complete(&tender.title, &draw.lot_id, total),
        )
    } else {
        (
            DrawStatus::Exhausted,
            crate::draw::exhausted(&tender.title, &draw.lot_id, filled, total),
        )
    };
    if draw.status == status.as_str() {
        return Ok(());
    }
    draws::Entity::update(draws::ActiveModel {
        id: Set(draw.id.clone()),
        status: Set(status.as_str().to_owned()),
        completed_at: Set((status == DrawStatus::Complete).then_some(now)),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    let mut details = json!({"seats_filled": filled, "seats_total": total});
    if status == DrawStatus::Complete {
        crate::evaluation::service::status::mark_evaluating_if_seated(
            txn,
            &draw.tender_id,
            &draw.lot_id,
        )
        .await?;
        // The committee is complete: the secret is revealed, so anyone holding the proof can check it.
        details["secret"] = json!(hex::encode(super::secret(ctx.master, draw)?));
    }
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(&draw.tender_id),
            &Actor::system(),
            if status == DrawStatus::Complete {
                "draw.complete"
            } else {
                "draw.exhausted"
            },
            format!("draw:{}", draw.id),
        )
        .details(details),
        now,
    )
    .await?;
    for owner in crate::tender::store::queries::owner_organizations(txn, &tender).await? {
        notify_organization(
            txn,
            &owner,
            if status == DrawStatus::Complete {
                "draw.complete"
            } else {
                "draw.exhausted"
            },
            Some(format!("draw:{}", draw.id)),
            &message,
            true,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Invites one expert: the invitation with its token's hash, the mail and the notice (the token
/// only in them), the job that passes the seat on when it runs out, and the audit entry.
async fn invite(
    txn: &impl ConnectionTrait,
    ctx: DrawContext<'_>,
    draw: &draws::Model,
    tender_title: &str,
    expert_id: &str,
    group: usize,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let token = random_token("thi_")?;
    let id = format!("inv_{}", uuid::Uuid::now_v7().simple());
    let expires_at = now + TimeDelta::seconds(draw.invite_seconds);
    draw_invitations::Entity::insert(draw_invitations::ActiveModel {
        id: Set(id.clone()),
        draw_id: Set(draw.id.clone()),
        expert_id: Set(expert_id.to_owned()),
        group_index: Set(i32::try_from(group).unwrap_or(0)),
        token_sha256: Set(token_hash(&token)),
        status: Set(Answer::Pending.as_str().to_owned()),
        invited_at: Set(now),
        expires_at: Set(expires_at),
        answered_at: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    let link = format!(
        "{}/expert-invitations/{token}",
        ctx.public_url.trim_end_matches('/')
    );
    if let Some(account) = crate::account::store::queries::account_of_expert(txn, expert_id).await?
    {
        let message = crate::draw::invitation(
            tender_title,
            &draw.lot_id,
            &link,
            &crate::time::rfc3339(expires_at),
        );
        notify(txn, &account, "draw.invitation", None, &message, true, now).await?;
    }
    jobs::enqueue(
        txn,
        NewJob::new(
            EXPIRY_JOB,
            json!({"invitation_id": id}),
            expires_at,
            format!("{EXPIRY_JOB}:{id}"),
        ),
        now,
    )
    .await?;
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(&draw.tender_id),
            &Actor::system(),
            "draw.invite",
            format!("draw:{}", draw.id),
        )
        .details(json!({
            "expert_id": expert_id,
            "group": group,
            "expires_at": crate::time::rfc3339(expires_at),
        })),
        now,
    )
    .await?;
    Ok(())
}

/// The audit log's person for an expert answering by its link: its account (Art 49 of the
/// 电子招标投标办法 asks for the person, and the token stands in for its sign-in).
async fn expert_actor(
    txn: &impl ConnectionTrait,
    expert_id: &str,
    ip: Option<String>,
) -> DomainResult<Actor> {
    let account = crate::account::store::queries::account_of_expert(txn, expert_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok(Actor::account(&account.id, ip))
}

fn closed() -> DomainError {
    DomainError::refused(
        ErrorCode::InvitationClosed,
        "This invitation is no longer open: it was answered, it ran out, or the draw ended.",
        "该邀请已失效：已答复、已过期或抽取已结束。",
    )
}

/// The invitation of `token` and its draw, both locked (the draw first, as every change does).
async fn by_token(
    txn: &impl ConnectionTrait,
    token: &str,
) -> DomainResult<(draws::Model, draw_invitations::Model)> {
    let hash = token_hash(token);
    let found = draw_invitations::Entity::find()
        .filter(draw_invitations::Column::TokenSha256.eq(hash.clone()))
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let draw = lock(txn, &found.draw_id).await?;
    let invitation = draw_invitations::Entity::find_by_id(found.id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok((draw, invitation))
}

/// Records an answer to a pending invitation and walks on.
async fn answer(
    txn: &impl ConnectionTrait,
    ctx: DrawContext<'_>,
    draw: &draws::Model,
    invitation: &draw_invitations::Model,
    answer: Answer,
    actor: Actor,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    draw_invitations::Entity::update(draw_invitations::ActiveModel {
        id: Set(invitation.id.clone()),
        status: Set(answer.as_str().to_owned()),
        answered_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(&draw.tender_id),
            &actor,
            match answer {
                Answer::Accepted => "draw.accept",
                Answer::Declined => "draw.decline",
                Answer::TimedOut => "draw.timeout",
                Answer::Withdrew => "draw.withdraw",
                Answer::Pending => "draw.invite",
            },
            format!("draw:{}", draw.id),
        )
        .details(json!({"expert_id": invitation.expert_id})),
        now,
    )
    .await?;
    let draw = lock(txn, &draw.id).await?;
    advance(txn, ctx, &draw, now).await
}

fn open_for_answers(
    draw: &draws::Model,
    invitation: &draw_invitations::Model,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    if invitation.status != Answer::Pending.as_str()
        || now >= invitation.expires_at
        || draw.status != DrawStatus::Inviting.as_str()
    {
        return Err(closed());
    }
    Ok(())
}

/// Accepts an invitation with the no-conflict declaration (评标委员会暂行规定 Art 12).
pub async fn accept(
    db: &DatabaseConnection,
    ctx: DrawContext<'_>,
    token: &str,
    no_conflict: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let (draw, invitation) = by_token(&txn, token).await?;
    open_for_answers(&draw, &invitation, now)?;
    if !no_conflict {
        return Err(DomainError::refused(
            ErrorCode::ConflictNotDeclared,
            "To accept, declare that you have no conflict of interest with the lot's bidders (\"no_conflict\": true); if you have one, decline.",
            "接受邀请须声明与该标段投标人无利害关系（\"no_conflict\": true）；如有利害关系，请拒绝。",
        ));
    }
    let actor = expert_actor(&txn, &invitation.expert_id, ip).await?;
    answer(&txn, ctx, &draw, &invitation, Answer::Accepted, actor, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Declines an invitation: the seat passes to the next in the ranking.
pub async fn decline(
    db: &DatabaseConnection,
    ctx: DrawContext<'_>,
    token: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let (draw, invitation) = by_token(&txn, token).await?;
    open_for_answers(&draw, &invitation, now)?;
    let actor = expert_actor(&txn, &invitation.expert_id, ip).await?;
    answer(&txn, ctx, &draw, &invitation, Answer::Declined, actor, now).await?;
    txn.commit().await?;
    Ok(())
}

/// The job at an invitation's end: still unanswered, it times out and the seat passes on.
/// `Ok(false)` when it is not yet due (the job runs again).
pub async fn expire(
    db: &DatabaseConnection,
    ctx: DrawContext<'_>,
    invitation_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let txn = begin_write(db).await?;
    let Some(found) = draw_invitations::Entity::find_by_id(invitation_id.to_owned())
        .one(&txn)
        .await?
    else {
        return Ok(true);
    };
    let draw = lock(&txn, &found.draw_id).await?;
    let invitation = draw_invitations::Entity::find_by_id(found.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if invitation.status != Answer::Pending.as_str() {
        return Ok(true);
    }
    if now < invitation.expires_at {
        return Ok(false);
    }
    answer(
        &txn,
        ctx,
        &draw,
        &invitation,
        Answer::TimedOut,
        Actor::system(),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// A member leaves the committee (illness, a conflict found later): a supervisor records it, or
/// the expert itself; the seat is drawn again down the ranking (87号令 Art 49).
pub async fn withdraw_member(
    db: &DatabaseConnection,
    ctx: DrawContext<'_>,
    principal: &Principal,
    draw_id: &DrawId,
    expert_id: &ExpertId,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let itself = principal.expert_id.as_ref() == Some(expert_id);
    if !principal.is_supervisor() && !itself {
        return Err(DomainError::NotFound);
    }
    let txn = begin_write(db).await?;
    let draw = lock(&txn, draw_id.as_str()).await?;
    let invitation = draw_invitations::Entity::find()
        .filter(draw_invitations::Column::DrawId.eq(draw.id.clone()))
        .filter(draw_invitations::Column::ExpertId.eq(expert_id.as_str()))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let member = invitation.status == Answer::Accepted.as_str()
        || invitation.status == Answer::Pending.as_str();
    if !member || draw.status == DrawStatus::Exhausted.as_str() || draw.final_at.is_some() {
        return Err(closed());
    }
    if draw.status == DrawStatus::Complete.as_str() {
        // The seat is open again: the draw goes back to inviting.
        draws::Entity::update(draws::ActiveModel {
            id: Set(draw.id.clone()),
            status: Set(DrawStatus::Inviting.as_str().to_owned()),
            completed_at: Set(None),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    let draw = lock(&txn, &draw.id).await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    answer(&txn, ctx, &draw, &invitation, Answer::Withdrew, actor, now).await?;
    txn.commit().await?;
    Ok(())
}

/// The ids of the draws an expert was invited to (for the expert's own list).
pub(super) async fn draws_of_expert(
    db: &impl ConnectionTrait,
    expert_id: &str,
) -> DomainResult<Vec<draw_invitations::Model>> {
    Ok(draw_invitations::Entity::find()
        .filter(draw_invitations::Column::ExpertId.eq(expert_id))
        .limit(200)
        .all(db)
        .await?)
}
