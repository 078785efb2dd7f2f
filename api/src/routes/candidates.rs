//! The candidates' publicity and objections (中标候选人公示与异议, 实施条例 Art 54;
//! docs/spec/evaluation.md "Candidates and objections").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use tenderhall_domain::evaluation::service::candidates;
use tenderhall_domain::id::{LotId, TenderId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, ClientIp, MaybeAuth};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_candidates))
        .routes(routes!(raise_objection))
        .routes(routes!(answer_objection))
}

/// The published candidates (anyone): `{status: publicity | suspended | ended, record, objections}`.
/// `record` is the list the platform signed, with the end of the publicity; `objections` are
/// those the caller may read (the owners and supervisors all, an objector its own). 404 before
/// the report is signed.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/candidates",
    tag = "evaluation",
    security((), ("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem))
)]
async fn get_candidates(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let view = candidates::view(
        state.db(),
        viewer.as_ref(),
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        state.now(),
    )
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRequest {
    /// What is objected to, and why.
    pub body: String,
}

/// A bidder of the lot objects to the result during the publicity; the procedure is suspended
/// until the tenderer answers (within 3 days).
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/candidates/objections",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = ObjectionRequest,
    responses(
        (status = 201, body = Object),
        (status = 403, description = "`forbidden`: not a bidder of the lot", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`publicity_closed`", body = Problem),
    )
)]
async fn raise_objection(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<ObjectionRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let done = candidates::object(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &body.body,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok((StatusCode::CREATED, Json(done)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionAnswerRequest {
    pub answer: String,
}

/// The tender's owner answers an objection.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/candidates/objections/{objection_id}/answer",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("objection_id" = String, Path)),
    request_body = ObjectionAnswerRequest,
    responses(
        (status = 200, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`already_answered`", body = Problem),
    )
)]
async fn answer_objection(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot, objection_id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<ObjectionAnswerRequest>,
) -> ApiResult<Json<Value>> {
    let done = candidates::answer(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &objection_id,
        &body.answer,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(done))
}
