//! Expert invitations (docs/spec/draws.md "Seats"): the drawn expert answers through the link
//! mailed to it, which carries the token; accepting declares no conflict with the lot's bidders,
//! whom the invitation names while it is open.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::draw::service::{self as draws, InvitationView};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_invitation))
        .routes(routes!(accept_invitation))
        .routes(routes!(decline_invitation))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResponse {
    pub draw_id: String,
    pub tender_id: String,
    pub tender_title: String,
    pub lot_id: String,
    pub specialty: String,
    /// `pending`, `accepted`, `declined`, `timed_out` or `withdrew`.
    pub status: String,
    pub expires_at: DateTime<Utc>,
    /// The lot's bidders, to declare no conflict with: named only while the invitation is open.
    pub bidders: Vec<String>,
}

impl From<InvitationView> for InvitationResponse {
    fn from(v: InvitationView) -> Self {
        Self {
            draw_id: v.draw_id,
            tender_id: v.tender_id,
            tender_title: v.tender_title,
            lot_id: v.lot_id,
            specialty: v.specialty,
            status: v.status,
            expires_at: v.expires_at,
            bidders: v.bidders,
        }
    }
}

/// An invitation, by the token of its link (the invited expert).
#[utoipa::path(
    get,
    path = "/api/v1/expert-invitations/{token}",
    tag = "draws",
    params(("token" = String, Path)),
    responses(
        (status = 200, body = InvitationResponse),
        (status = 404, body = Problem),
    )
)]
async fn get_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<InvitationResponse>> {
    Ok(Json(
        draws::invitation(state.db(), &token, state.now())
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The expert declares no conflict of interest with the lot's bidders (评标委员会暂行规定 Art 12).
    pub no_conflict: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerResponse {
    pub status: String,
}

/// Accept an invitation, declaring no conflict with the lot's bidders.
#[utoipa::path(
    post,
    path = "/api/v1/expert-invitations/{token}/accept",
    tag = "draws",
    params(("token" = String, Path)),
    request_body = AcceptRequest,
    responses(
        (status = 200, body = AnswerResponse),
        (status = 400, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`invitation_closed`", body = Problem),
        (status = 422, description = "`conflict_not_declared`", body = Problem),
    )
)]
async fn accept_invitation(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> ApiResult<Json<AnswerResponse>> {
    draws::accept(
        state.db(),
        state.draw_context(),
        &token,
        req.no_conflict,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok(Json(AnswerResponse {
        status: "accepted".to_owned(),
    }))
}

/// Decline an invitation: the seat passes to the next expert in the ranking (87号令 Art 49).
#[utoipa::path(
    post,
    path = "/api/v1/expert-invitations/{token}/decline",
    tag = "draws",
    params(("token" = String, Path)),
    responses(
        (status = 200, body = AnswerResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`invitation_closed`", body = Problem),
    )
)]
async fn decline_invitation(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
) -> ApiResult<Json<AnswerResponse>> {
    draws::decline(
        state.db(),
        state.draw_context(),
        &token,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok(Json(AnswerResponse {
        status: "declined".to_owned(),
    }))
}
