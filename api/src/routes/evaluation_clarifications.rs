//! Written clarifications during the evaluation (澄清, 87号令 Art 51, 60;
//! docs/spec/evaluation.md "Clarifications"): a member asks, the bidder asked answers before the
//! deadline.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use tenderhall_domain::evaluation::service::room::clarify;
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
        .routes(routes!(ask))
        .routes(routes!(asked_of_me))
        .routes(routes!(answer))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClarificationRequest {
    /// The organization whose opened bid the question is about.
    pub bidder_id: String,
    pub question: String,
    /// The bidder must explain an abnormally low price in writing, or its bid is invalid
    /// (87号令 Art 60). Only during the review.
    #[serde(default)]
    pub abnormally_low: bool,
    /// The deadline to answer: after now, at most 5 days (÷ the tender's accelerator) away.
    pub answer_by: DateTime<Utc>,
}

/// A seated member asks a bidder a written question (201 the clarification; 404 to anyone
/// outside the committee).
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/evaluation/clarifications",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = ClarificationRequest,
    responses(
        (status = 201, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`wrong_phase`", body = Problem),
        (status = 422, description = "`invalid`", body = Problem),
    )
)]
async fn ask(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<ClarificationRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let done = clarify::ask(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        clarify::Question {
            bidder_id: body.bidder_id,
            question: body.question,
            abnormally_low: body.abnormally_low,
            answer_by: body.answer_by,
        },
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok((StatusCode::CREATED, Json(done)))
}

/// The clarifications the caller's organization was asked in a lot: `{items}`.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/clarifications",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem))
)]
async fn asked_of_me(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let mine = clarify::asked_of(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
    )
    .await?;
    Ok(Json(mine))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClarificationAnswerRequest {
    pub answer: String,
}

/// The bidder asked answers in writing before the deadline.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/clarifications/{clarification_id}/answer",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("clarification_id" = String, Path)),
    request_body = ClarificationAnswerRequest,
    responses(
        (status = 200, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`already_answered`, `clarification_closed`", body = Problem),
        (status = 422, description = "`invalid`", body = Problem),
    )
)]
async fn answer(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot, clarification_id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<ClarificationAnswerRequest>,
) -> ApiResult<Json<Value>> {
    let done = clarify::answer(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &clarification_id,
        &body.answer,
        state.deposits().interest_rate,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(done))
}
