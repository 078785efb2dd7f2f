//! Evaluation (docs/spec/evaluation.md): the K of the mean-base price formula, which anyone may
//! read and re-check, and the evaluation room of a lot, for its seated committee and supervisors.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use tenderhall_domain::evaluation::service::room::{self, Phase};
use tenderhall_domain::id::{LotId, TenderId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(price_k))
        .routes(routes!(get_room))
        .routes(routes!(submit_review))
        .routes(routes!(submit_scores))
        .routes(routes!(submit_flags))
}

/// K of a lot whose price formula draws one (anyone): the commitment and the range from
/// publication; the secret, the public input (the opening record's digest), K and the platform's
/// signature from the opening on. 404 for a lot that draws no K.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/price-k",
    tag = "evaluation",
    params(("id" = String, Path), ("lot" = String, Path)),
    responses(
        (status = 200, description = "`{tender, lot, commitment, range: {min, max, step}, public_input, secret, k, revealed_at, platform_key?, signature?}`", body = Object),
        (status = 404, body = Problem),
    )
)]
async fn price_k(
    State(state): State<AppState>,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let tender = TenderId::parse(&id)?;
    let lot = LotId::parse(&lot)?;
    // Only a published tender's lots: a draft's tender answers 404 to anyone but its owner.
    tenderhall_domain::tender::service::get(state.db(), None, &tender).await?;
    tenderhall_domain::evaluation::service::price_k::published(state.db(), &tender, &lot)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// The evaluation room of a lot (its seated committee; supervisors read-only): the phase, the
/// published set-up, the opened bids with their archives, the sheets the viewer may read (a
/// member the others' only after submitting its own), the compliance decision and the ranking.
/// 404 for anyone else, and before the lot is opened and its committee seated.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/evaluation",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem))
)]
async fn get_room(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let view = room::view(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
    )
    .await?;
    Ok(Json(view))
}

/// A member's signed sheet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SheetRequest {
    /// `{phase, tender_id, lot_id, expert_id, verdicts | scores}` (docs/spec/evaluation.md "Sheets").
    #[schema(value_type = Object)]
    pub sheet: serde_json::Value,
    /// Ed25519 over the sheet's canonical JSON, base64, by the key the expert registered.
    pub signature: String,
}

async fn submit(
    state: AppState,
    auth: Auth,
    ip: String,
    (id, lot): (String, String),
    phase: Phase,
    body: SheetRequest,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let done = room::submit(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        phase,
        body.sheet,
        &body.signature,
        state.deposits().interest_rate,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// Submit the member's signed compliance review: a verdict, with a reason when it fails, on every
/// published check of every opened bid. Locked once submitted.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/evaluation/review",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = SheetRequest,
    responses(
        (status = 201, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`sheet_locked`, `wrong_phase`", body = Problem),
        (status = 422, description = "`invalid` naming the field, `bad_signature`", body = Problem),
    )
)]
async fn submit_review(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(path): Path<(String, String)>,
    ApiJson(body): ApiJson<SheetRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    submit(state, auth, ip, path, Phase::Review, body).await
}

/// Submit the member's signed scores: a mark within its range on every subjective criterion of
/// every bid the review found valid. Locked once submitted.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/evaluation/scores",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = SheetRequest,
    responses(
        (status = 201, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`sheet_locked`, `wrong_phase`", body = Problem),
        (status = 422, description = "`invalid` naming the field, `bad_signature`", body = Problem),
    )
)]
async fn submit_scores(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(path): Path<(String, String)>,
    ApiJson(body): ApiJson<SheetRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    submit(state, auth, ip, path, Phase::Scores, body).await
}

/// A member whose marks were flagged as far from the others' confirms or corrects them, in one
/// signed sheet `{phase: "flags", …, scores}` naming exactly its flagged marks. Locked once
/// submitted.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/evaluation/flags",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = SheetRequest,
    responses(
        (status = 201, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`sheet_locked`, `wrong_phase`", body = Problem),
        (status = 422, description = "`invalid` naming the field, `bad_signature`", body = Problem),
    )
)]
async fn submit_flags(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(path): Path<(String, String)>,
    ApiJson(body): ApiJson<SheetRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    submit(state, auth, ip, path, Phase::Flags, body).await
}
