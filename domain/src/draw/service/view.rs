//! What each role reads of a draw (docs/spec/visibility.md "Draws"; 招标投标法 Art 37): until the
//! result is final, the committee is known to supervisors and to each expert for itself only; the
//! owner and the lot's bidders see counts; anyone else is told nothing exists. The proof is for
//! supervisors, and for everyone once the result is final.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tenderhall_model::expert::draw::{Answer, Excluded, Proof, SeatGroup, seat};

use super::{DrawContext, load_state};
use crate::account::Principal;
use crate::account::service::token_hash;
use crate::draw::DrawStatus;
use crate::draw::store::{draw_candidates, draw_invitations, draws};
use crate::error::{DomainError, DomainResult};
use crate::id::DrawId;

/// Experts left out for one reason, counted (supervisors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionCount {
    pub reason: String,
    pub count: u64,
}

/// An invited expert and its answer (supervisors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub expert_id: String,
    pub status: String,
    pub group: i32,
    pub invited_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A draw as its reader may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawView {
    pub draw_id: String,
    pub tender_id: String,
    pub lot_id: String,
    pub status: String,
    pub commitment: String,
    pub pool_hash: String,
    pub public_input: Option<String>,
    pub input_deadline: DateTime<Utc>,
    pub seats: Vec<SeatGroup>,
    pub reserves: i32,
    pub seats_total: i32,
    pub seats_filled: i32,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub final_at: Option<DateTime<Utc>>,
    /// Supervisors only: eligible experts, exclusions by reason, and every invitation.
    pub eligible: Option<u64>,
    pub exclusions: Option<Vec<ExclusionCount>>,
    pub members: Option<Vec<Member>>,
}

/// Whether the principal may read the draw, and all of it (`Some(true)`: supervisors).
async fn access(
    db: &DatabaseConnection,
    principal: &Principal,
    draw: &draws::Model,
) -> DomainResult<Option<bool>> {
    if principal.is_supervisor() {
        return Ok(Some(true));
    }
    let Some(tender) = crate::tender::service::load(db, &draw.tender_id).await? else {
        return Ok(None);
    };
    if tender.is_owned_by(principal) {
        return Ok(Some(false));
    }
    if let Some(m) = &principal.membership
        && crate::deposit::store::queries::active_registration(
            db,
            &draw.tender_id,
            &draw.lot_id,
            m.organization_id.as_str(),
        )
        .await?
        .is_some()
    {
        return Ok(Some(false));
    }
    Ok(None)
}

/// A draw: everything for supervisors, counts for the owner and the lot's bidders, 404 for others.
pub async fn draw(
    db: &DatabaseConnection,
    principal: &Principal,
    draw_id: &DrawId,
) -> DomainResult<DrawView> {
    let draw = draws::Entity::find_by_id(draw_id.as_str().to_owned())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let full = access(db, principal, &draw)
        .await?
        .ok_or(DomainError::NotFound)?;
    let invitations = draw_invitations::Entity::find()
        .filter(draw_invitations::Column::DrawId.eq(draw.id.clone()))
        .all(db)
        .await?;
    let filled = invitations
        .iter()
        .filter(|i| i.status == Answer::Accepted.as_str())
        .count();
    let mut view = DrawView {
        draw_id: draw.id.clone(),
        tender_id: draw.tender_id.clone(),
        lot_id: draw.lot_id.clone(),
        status: draw.status.clone(),
        commitment: draw.commitment.clone(),
        pool_hash: draw.pool_hash.clone(),
        public_input: draw.public_input.clone(),
        input_deadline: draw.input_deadline,
        seats: serde_json::from_str(&draw.seats).map_err(DomainError::internal)?,
        reserves: draw.reserves,
        seats_total: draw.seats_total,
        seats_filled: i32::try_from(filled).unwrap_or(i32::MAX),
        created_at: draw.created_at,
        completed_at: draw.completed_at,
        final_at: draw.final_at,
        eligible: None,
        exclusions: None,
        members: None,
    };
    if full {
        let candidates = draw_candidates::Entity::find()
            .filter(draw_candidates::Column::DrawId.eq(draw.id.clone()))
            .all(db)
            .await?;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut eligible = 0;
        for c in candidates {
            match c.reason {
                Some(reason) => *counts.entry(reason).or_default() += 1,
                None => eligible += 1,
            }
        }
        view.eligible = Some(eligible);
        view.exclusions = Some(
            counts
                .into_iter()
                .map(|(reason, count)| ExclusionCount { reason, count })
                .collect(),
        );
        let mut members: Vec<Member> = invitations
            .into_iter()
            .map(|i| Member {
                expert_id: i.expert_id,
                status: i.status,
                group: i.group_index,
                invited_at: i.invited_at,
                expires_at: i.expires_at,
            })
            .collect();
        members.sort_by(|a, b| (a.invited_at, &a.expert_id).cmp(&(b.invited_at, &b.expert_id)));
        view.members = Some(members);
    }
    Ok(view)
}

/// The proof (docs/spec/draws.md "The proof"): supervisors at any time, anyone once the result is
/// final; the secret is `null` until the committee is complete.
pub async fn proof(
    db: &DatabaseConnection,
    ctx: DrawContext<'_>,
    principal: Option<&Principal>,
    draw_id: &DrawId,
) -> DomainResult<Proof> {
    let draw = draws::Entity::find_by_id(draw_id.as_str().to_owned())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let supervisor = principal.is_some_and(Principal::is_supervisor);
    if !supervisor && draw.final_at.is_none() {
        return Err(DomainError::NotFound);
    }
    let state = load_state(db, &draw).await?;
    let ranking = state.ranking(ctx.master, &draw)?.unwrap_or_default();
    let seating = seat(
        &state.groups,
        u32::try_from(draw.reserves).unwrap_or(0),
        &ranking,
        &state.seatable,
        &state.answers,
    );
    let excluded = draw_candidates::Entity::find()
        .filter(draw_candidates::Column::DrawId.eq(draw.id.clone()))
        .filter(draw_candidates::Column::Eligible.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|c| Excluded {
            expert_id: c.expert_id,
            reason: c.reason.unwrap_or_default(),
        })
        .collect();
    // API contract: the secret is `null` until the committee is complete.
    let revealed = draw.status == DrawStatus::Complete.as_str();
    Ok(Proof {
        draw_id: draw.id.clone(),
        commitment: draw.commitment.clone(),
        public_input: draw.public_input.clone(),
        secret: if revealed {
            Some(hex::encode(super::secret(ctx.master, &draw)?))
        } else {
            None
        },
        pool_hash: draw.pool_hash.clone(),
        eligible: state.eligible,
        excluded,
        ranking,
        accepted: seating
            .seated
            .iter()
            .filter(|(_, _, answer)| *answer == Answer::Accepted)
            .map(|(id, _, _)| id.clone())
            .collect(),
        seats: state.groups,
        reserves: u32::try_from(draw.reserves).unwrap_or(0),
        seatable: state.seatable.into_values().collect(),
        answers: state.answers,
    })
}

/// An invitation as the invited expert sees it through its link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationView {
    pub draw_id: String,
    pub tender_id: String,
    pub tender_title: String,
    pub lot_id: String,
    pub specialty: String,
    pub status: String,
    pub expires_at: DateTime<Utc>,
    /// The lot's bidders by name, to declare no conflict with: shown while the invitation is open.
    pub bidders: Vec<String>,
}

/// The invitation of a link's token (the token is the expert's proof of being invited).
pub async fn invitation(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> DomainResult<InvitationView> {
    let invitation = draw_invitations::Entity::find()
        .filter(draw_invitations::Column::TokenSha256.eq(token_hash(token)))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let draw = draws::Entity::find_by_id(invitation.draw_id.clone())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let tender = crate::tender::store::queries::by_id(db, &draw.tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let groups: Vec<SeatGroup> =
        serde_json::from_str(&draw.seats).map_err(DomainError::internal)?;
    let open = invitation.status == Answer::Pending.as_str()
        && now < invitation.expires_at
        && draw.status == DrawStatus::Inviting.as_str();
    let bidders = if open {
        let ids = crate::deposit::store::queries::registered_organizations_of_lot(
            db,
            &draw.tender_id,
            &draw.lot_id,
        )
        .await?;
        let mut names: Vec<String> = crate::account::store::queries::names(db, ids)
            .await?
            .into_values()
            .collect();
        names.sort();
        names
    } else {
        Vec::new()
    };
    Ok(InvitationView {
        draw_id: draw.id,
        tender_id: tender.id,
        tender_title: tender.title,
        lot_id: draw.lot_id,
        specialty: groups
            .get(usize::try_from(invitation.group_index).unwrap_or(0))
            .map(|g| g.specialty.clone())
            .unwrap_or_default(),
        status: invitation.status,
        expires_at: invitation.expires_at,
        bidders,
    })
}

/// One of an expert's own invitations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnInvitation {
    pub draw_id: String,
    pub status: String,
    pub invited_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The principal's own invitations (an expert), newest first.
pub async fn my_invitations(
    db: &DatabaseConnection,
    principal: &Principal,
) -> DomainResult<Vec<OwnInvitation>> {
    let expert = principal.expert_id.as_ref().ok_or(DomainError::NotFound)?;
    let mut list: Vec<OwnInvitation> = super::invite::draws_of_expert(db, expert.as_str())
        .await?
        .into_iter()
        .map(|i| OwnInvitation {
            draw_id: i.draw_id,
            status: i.status,
            invited_at: i.invited_at,
            expires_at: i.expires_at,
        })
        .collect();
    list.sort_by_key(|m| std::cmp::Reverse(m.invited_at));
    Ok(list)
}

/// Marks the draws of a lot final when its result is published (called by the evaluation's result,
/// in its transaction): from then on the proof is public (招标投标法 Art 37 keeps the committee
/// secret only until then). Draws already final keep their time.
pub async fn finalize(
    txn: &impl sea_orm::ConnectionTrait,
    tender_id: &str,
    lot_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<u64> {
    use sea_orm::sea_query::Expr;
    let done = draws::Entity::update_many()
        .col_expr(draws::Column::FinalAt, Expr::value(Some(now)))
        .filter(draws::Column::TenderId.eq(tender_id))
        .filter(draws::Column::LotId.eq(lot_id))
        .filter(draws::Column::FinalAt.is_null())
        .exec(txn)
        .await?;
    Ok(done.rows_affected)
}
