//! Expert draws (在线专家抽取, docs/spec/draws.md): the owner requests one for a lot, supervisors
//! (and the owner) contribute to its public input, the drawn experts answer their invitations, and
//! the proof lets anyone re-check it once the result is final.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::draw::service::{self as draws, DrawRequest, DrawView};
use tenderhall_domain::draw::{Proof, SeatGroup};
use tenderhall_domain::id::{DrawId, ExpertId, TenderId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, ClientIp, MaybeAuth};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_draw))
        .routes(routes!(get_draw))
        .routes(routes!(contribute))
        .routes(routes!(get_proof))
        .routes(routes!(withdraw_member))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatGroupInput {
    /// A specialty code such as `A01.02`; experts of the code or of one within it fill the seats.
    pub specialty: String,
    pub count: u32,
    /// A region code the experts must be registered in; omitted: anywhere.
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawRequestBody {
    pub seats: Vec<SeatGroupInput>,
    /// Further experts ranked after the seats, invited in turn when a seat frees up.
    #[serde(default)]
    pub reserves: u32,
    /// Government procurement declared technically complex: 7 or more seats (87号令 Art 47).
    #[serde(default)]
    pub complex: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DrawCreated {
    pub draw_id: String,
    /// Lowercase hex SHA-256 of the draw's secret, published before the public input is known.
    pub commitment: String,
    /// `awaiting_input`, `inviting`, `complete` or `exhausted`.
    pub status: String,
    pub pool_hash: String,
    /// Until when supervisors and the owner may post random contributions.
    pub input_deadline: DateTime<Utc>,
}

/// Request an expert draw for a lot (the tender's owner), from the window before the bid deadline
/// on. The seats must make a committee the law allows: 5 or more and odd (招标投标法 Art 37); 7 or
/// more for government procurement of 10 million CNY or complex (87号令 Art 47); 3 or more and odd
/// for negotiation and inquiry (政府采购法 Art 38, 40).
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/draws",
    tag = "draws",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = DrawRequestBody,
    responses(
        (status = 201, body = DrawCreated),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`draw_exists`, `draw_window_not_open`, `tender_not_active`", body = Problem),
        (status = 422, description = "`committee_too_small`, `committee_size_even`, `no_committee`, `invalid`", body = Problem),
    )
)]
async fn request_draw(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<DrawRequestBody>,
) -> ApiResult<(StatusCode, Json<DrawCreated>)> {
    let tender = TenderId::parse(&id)?;
    let request = DrawRequest {
        seats: body
            .seats
            .into_iter()
            .map(|g| SeatGroup {
                specialty: g.specialty,
                region: g.region,
                count: g.count,
            })
            .collect(),
        reserves: body.reserves,
        complex: body.complex,
    };
    let draw = draws::request_draw(
        state.db(),
        state.draw_context(),
        &auth.principal,
        &tender,
        &lot,
        request,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok((
        StatusCode::CREATED,
        Json(DrawCreated {
            draw_id: draw.id,
            commitment: draw.commitment,
            status: draw.status,
            pool_hash: draw.pool_hash,
            input_deadline: draw.input_deadline,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExclusionCountResponse {
    pub reason: String,
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    pub expert_id: String,
    pub status: String,
    pub group: i32,
    pub invited_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DrawResponse {
    pub draw_id: String,
    pub tender_id: String,
    pub lot_id: String,
    pub status: String,
    pub commitment: String,
    pub pool_hash: String,
    pub public_input: Option<String>,
    pub input_deadline: DateTime<Utc>,
    pub seats: Vec<SeatGroupInput>,
    pub reserves: i32,
    pub seats_filled: i32,
    pub seats_total: i32,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// When the result became final: from then on the proof is public.
    pub final_at: Option<DateTime<Utc>>,
    /// Supervisors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible: Option<u64>,
    /// Supervisors only: the experts left out, counted by reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusions: Option<Vec<ExclusionCountResponse>>,
    /// Supervisors only: every invitation and its answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<MemberResponse>>,
}

impl From<DrawView> for DrawResponse {
    fn from(v: DrawView) -> Self {
        Self {
            draw_id: v.draw_id,
            tender_id: v.tender_id,
            lot_id: v.lot_id,
            status: v.status,
            commitment: v.commitment,
            pool_hash: v.pool_hash,
            public_input: v.public_input,
            input_deadline: v.input_deadline,
            seats: v
                .seats
                .into_iter()
                .map(|g| SeatGroupInput {
                    specialty: g.specialty,
                    count: g.count,
                    region: g.region,
                })
                .collect(),
            reserves: v.reserves,
            seats_filled: v.seats_filled,
            seats_total: v.seats_total,
            created_at: v.created_at,
            completed_at: v.completed_at,
            final_at: v.final_at,
            eligible: v.eligible,
            exclusions: v.exclusions.map(|list| {
                list.into_iter()
                    .map(|e| ExclusionCountResponse {
                        reason: e.reason,
                        count: e.count,
                    })
                    .collect()
            }),
            members: v.members.map(|list| {
                list.into_iter()
                    .map(|m| MemberResponse {
                        expert_id: m.expert_id,
                        status: m.status,
                        group: m.group,
                        invited_at: m.invited_at,
                        expires_at: m.expires_at,
                    })
                    .collect()
            }),
        }
    }
}

/// A draw: counts for the owner and the lot's bidders ("3 of 5 seats accepted"), everything for
/// supervisors; 404 for anyone else (招标投标法 Art 37: the committee is secret).
#[utoipa::path(
    get,
    path = "/api/v1/draws/{draw_id}",
    tag = "draws",
    security(("bearer" = [])),
    params(("draw_id" = String, Path)),
    responses(
        (status = 200, body = DrawResponse),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn get_draw(
    State(state): State<AppState>,
    auth: Auth,
    Path(draw_id): Path<String>,
) -> ApiResult<Json<DrawResponse>> {
    let view = draws::draw(state.db(), &auth.principal, &DrawId::parse(&draw_id)?).await?;
    Ok(Json(view.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContributionRequest {
    /// 32 random bytes as 64 lowercase hex digits (`openssl rand -hex 32`).
    pub value: String,
}

/// Contribute randomness to a draw's public input (a supervisor, or the owner), once per
/// organization, after seeing the commitment and before the window ends.
#[utoipa::path(
    post,
    path = "/api/v1/draws/{draw_id}/contributions",
    tag = "draws",
    security(("bearer" = [])),
    params(("draw_id" = String, Path)),
    request_body = ContributionRequest,
    responses(
        (status = 204),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`draw_not_awaiting_input`, `already_answered`", body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn contribute(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(draw_id): Path<String>,
    ApiJson(req): ApiJson<ContributionRequest>,
) -> ApiResult<StatusCode> {
    draws::contribute(
        state.db(),
        &auth.principal,
        &DrawId::parse(&draw_id)?,
        &req.value,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExcludedResponse {
    pub expert_id: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeatableResponse {
    pub expert_id: String,
    pub employer: String,
    /// The seat groups (indexes into `seats`) the expert can fill.
    pub fills: Vec<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProofResponse {
    pub draw_id: String,
    pub commitment: String,
    pub public_input: Option<String>,
    /// `null` until the committee is complete.
    pub secret: Option<String>,
    pub pool_hash: String,
    pub eligible: Vec<String>,
    pub excluded: Vec<ExcludedResponse>,
    pub ranking: Vec<String>,
    pub accepted: Vec<String>,
    pub seats: Vec<SeatGroupInput>,
    pub reserves: u32,
    pub seatable: Vec<SeatableResponse>,
    /// Every invitation's answer by expert: `pending`, `accepted`, `declined`, `timed_out`, `withdrew`.
    pub answers: std::collections::BTreeMap<String, String>,
}

impl From<Proof> for ProofResponse {
    fn from(p: Proof) -> Self {
        Self {
            draw_id: p.draw_id,
            commitment: p.commitment,
            public_input: p.public_input,
            secret: p.secret,
            pool_hash: p.pool_hash,
            eligible: p.eligible,
            excluded: p
                .excluded
                .into_iter()
                .map(|e| ExcludedResponse {
                    expert_id: e.expert_id,
                    reason: e.reason,
                })
                .collect(),
            ranking: p.ranking,
            accepted: p.accepted,
            seats: p
                .seats
                .into_iter()
                .map(|g| SeatGroupInput {
                    specialty: g.specialty,
                    count: g.count,
                    region: g.region,
                })
                .collect(),
            reserves: p.reserves,
            seatable: p
                .seatable
                .into_iter()
                .map(|s| SeatableResponse {
                    expert_id: s.expert_id,
                    employer: s.employer,
                    fills: s.fills,
                })
                .collect(),
            answers: p
                .answers
                .into_iter()
                .map(|(id, a)| (id, a.as_str().to_owned()))
                .collect(),
        }
    }
}

/// The draw's proof (supervisors; everyone once the result is final): enough to recompute the
/// eligibility order, the ranking and the seats offline (`tenderhall draw verify PROOF.json`).
#[utoipa::path(
    get,
    path = "/api/v1/draws/{draw_id}/proof",
    tag = "draws",
    params(("draw_id" = String, Path)),
    responses(
        (status = 200, body = ProofResponse),
        (status = 404, body = Problem),
    )
)]
async fn get_proof(
    State(state): State<AppState>,
    MaybeAuth(principal): MaybeAuth,
    Path(draw_id): Path<String>,
) -> ApiResult<Json<ProofResponse>> {
    let proof = draws::proof(
        state.db(),
        state.draw_context(),
        principal.as_ref(),
        &DrawId::parse(&draw_id)?,
    )
    .await?;
    Ok(Json(proof.into()))
}

/// Record that a member leaves the committee (a supervisor, or the expert itself): the seat is
/// drawn again down the ranking (87号令 Art 49).
#[utoipa::path(
    post,
    path = "/api/v1/draws/{draw_id}/members/{expert_id}/withdraw",
    tag = "draws",
    security(("bearer" = [])),
    params(("draw_id" = String, Path), ("expert_id" = String, Path)),
    responses(
        (status = 204),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`invitation_closed`", body = Problem),
    )
)]
async fn withdraw_member(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((draw_id, expert_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    draws::withdraw_member(
        state.db(),
        state.draw_context(),
        &auth.principal,
        &DrawId::parse(&draw_id)?,
        &ExpertId::parse(&expert_id)?,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok(StatusCode::NO_CONTENT)
}
