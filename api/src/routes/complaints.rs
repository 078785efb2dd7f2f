//! Complaints to the supervisors after an objection (投诉, 实施条例 Art 60–61; 政府采购法
//! Art 55–57; docs/spec/evaluation.md "Complaints").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use tenderhall_domain::evaluation::service::complaints::{self, Ruling};
use tenderhall_domain::id::{LotId, TenderId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, file))
        .routes(routes!(acceptance))
        .routes(routes!(decision))
}

/// The complaints of a lot the caller may read (`{items}`): supervisors and the tender's owners
/// all, a complainant its own.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/complaints",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem))
)]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let items = complaints::list(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
    )
    .await?;
    Ok(Json(items))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    /// The caller's objection (GP: challenge) complained of.
    pub objection_id: String,
    pub body: String,
}

/// The objector complains of the answer to its objection, or of none in time: within 10 days of
/// knowing (GP: 15 working days).
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/complaints",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = ComplaintRequest,
    responses(
        (status = 201, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`wrong_phase` before the answer or its deadline, `deadline_passed`, `complaint_exists`", body = Problem),
        (status = 422, description = "`invalid`", body = Problem),
    )
)]
async fn file(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<ComplaintRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let done = complaints::file(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &body.objection_id,
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
pub struct AcceptanceRequest {
    pub accepted: bool,
    /// Accepted: suspend the procedure (award and contract) until the decision.
    #[serde(default)]
    pub suspend: bool,
    /// Refused: why.
    pub reason: Option<String>,
}

/// A supervisor accepts (optionally suspending the procedure) or refuses a filed complaint,
/// within 3 working days.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/complaints/{complaint_id}/acceptance",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("complaint_id" = String, Path)),
    request_body = AcceptanceRequest,
    responses(
        (status = 200, body = Object),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`already_answered`", body = Problem),
        (status = 422, description = "`invalid`", body = Problem),
    )
)]
async fn acceptance(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot, complaint_id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<AcceptanceRequest>,
) -> ApiResult<Json<Value>> {
    let ruling = if body.accepted {
        Ruling::Accept {
            suspend: body.suspend,
        }
    } else {
        Ruling::Refuse {
            reason: body.reason.unwrap_or_default(),
        }
    };
    rule(state, auth, ip, (id, lot, complaint_id), ruling).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub upheld: bool,
    pub decision: String,
}

/// A supervisor decides an accepted complaint, within 30 working days; a suspension ends with it.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/complaints/{complaint_id}/decision",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("complaint_id" = String, Path)),
    request_body = DecisionRequest,
    responses(
        (status = 200, body = Object),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`wrong_phase` before acceptance, `already_answered`", body = Problem),
        (status = 422, description = "`invalid`", body = Problem),
    )
)]
async fn decision(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot, complaint_id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> ApiResult<Json<Value>> {
    let ruling = Ruling::Decide {
        upheld: body.upheld,
        decision: body.decision,
    };
    rule(state, auth, ip, (id, lot, complaint_id), ruling).await
}

async fn rule(
    state: AppState,
    auth: Auth,
    ip: String,
    (id, lot, complaint_id): (String, String, String),
    ruling: Ruling,
) -> ApiResult<Json<Value>> {
    let done = complaints::rule(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &complaint_id,
        ruling,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok(Json(done))
}
