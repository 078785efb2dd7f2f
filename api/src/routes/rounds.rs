//! Final-quote rounds of a negotiation or inquiry (最后报价; docs/spec/evaluation.md "Final
//! quotes"): the panel calls one, the bidders still in seal a quote to its key, the chronograph
//! opens them together at its deadline.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use tenderhall_domain::evaluation::service::rounds;
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
        .routes(routes!(call))
        .routes(routes!(view))
        .routes(routes!(submit_quote))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundRequest {
    /// When the quotes open: after now, at most 5 days (÷ the tender's accelerator) away.
    pub deadline: DateTime<Utc>,
}

/// A member of the panel calls a round of final quotes from the bidders still in (201 the round,
/// with the key to seal to).
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/evaluation/rounds",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = RoundRequest,
    responses(
        (status = 201, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`wrong_phase`", body = Problem),
        (status = 422, description = "`procedure_mismatch`, `invalid`", body = Problem),
    )
)]
async fn call(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<RoundRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let round = rounds::call(
        state.db(),
        state.master_key(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        body.deadline,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok((StatusCode::CREATED, Json(round)))
}

fn round_number(n: &str) -> ApiResult<i32> {
    n.parse::<i32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::from(tenderhall_domain::DomainError::NotFound))
}

/// A round (the panel, supervisors and the bidders called to it): the key to seal to
/// (`recipient`, `public_key`), the deadline, and once opened the signed record.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/rounds/{round}",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("round" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem))
)]
async fn view(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot, round)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let round = rounds::view(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        round_number(&round)?,
    )
    .await?;
    Ok(Json(round))
}

/// Submit or replace the caller's sealed final quote: the envelope of docs/spec/envelope.md,
/// sealed to the round's key (201 the signed receipt, with `round`).
#[utoipa::path(
    put,
    path = "/api/v1/tenders/{id}/lots/{lot}/rounds/{round}/quote",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("round" = String, Path)),
    request_body(content_type = "application/vnd.tenderhall.bid", description = "the envelope (docs/spec/envelope.md)"),
    responses(
        (status = 201, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`deadline_passed`", body = Problem),
        (status = 413, description = "`too_large`", body = Problem),
        (status = 422, description = "`bad_envelope`, `wrong_recipient`, `bad_signature`", body = Problem),
    )
)]
async fn submit_quote(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot, round)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (tender, lot, number) = (
        TenderId::parse(&id)?,
        LotId::parse(&lot)?,
        round_number(&round)?,
    );
    let intake = rounds::prepare(
        state.db(),
        &auth.principal,
        &tender,
        &lot,
        number,
        state.now(),
    )
    .await?;
    let limit = state.settings().max_bid_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::too_large(
            usize::try_from(limit).unwrap_or(usize::MAX),
        ));
    }
    let (checked, stored) = super::bids::stream_and_check(&state, &intake, body, limit).await?;
    let receipt = rounds::record_quote(
        state.db(),
        state.signer(),
        &intake,
        number,
        &checked,
        &stored,
        Some(ip),
        state.clock().as_ref(),
    )
    .await?;
    let receipt = serde_json::to_value(&receipt).map_err(|_| ApiError::internal())?;
    Ok((StatusCode::CREATED, Json(receipt)))
}
