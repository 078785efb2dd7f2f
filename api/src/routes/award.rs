//! The award and the contract (docs/spec/evaluation.md "Award and contract").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use tenderhall_domain::evaluation::service::award;
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
        .routes(routes!(get_award, name_winner))
        .routes(routes!(record_contract))
}

/// The signed award notice and, once recorded, the signed contract record (anyone): 404 before
/// the award.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/award",
    tag = "evaluation",
    params(("id" = String, Path), ("lot" = String, Path)),
    responses((status = 200, description = "`{award, contract}`", body = Object), (status = 404, body = Problem))
)]
async fn get_award(
    State(state): State<AppState>,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let view = award::view(state.db(), &TenderId::parse(&id)?, &LotId::parse(&lot)?).await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardRequest {
    /// One of the published candidates.
    pub bidder_id: String,
    /// Why the candidates ranked above are passed over (实施条例 Art 55); needed for any but the first.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The owner names the winner once the publicity has ended with every objection answered.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/award",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = AwardRequest,
    responses(
        (status = 201, description = "the signed award notice", body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`wrong_phase` (publicity not over, or an objection unanswered), `already_awarded`", body = Problem),
        (status = 422, description = "`invalid` (not a candidate), `first_ranked_passed_over`", body = Problem),
    )
)]
async fn name_winner(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<AwardRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let record = award::award(
        state.db(),
        state.signer(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &body.bidder_id,
        body.reason,
        state.deposits().interest_rate,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok((StatusCode::CREATED, Json(record)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractRequest {
    /// In yuan, e.g. `"95000.00"`.
    pub contract_price: String,
    /// At most 10 % of the contract price (实施条例 Art 58).
    #[serde(default)]
    pub performance_bond: Option<String>,
}

/// The owner records the contract signed with the winner; the deposits due back are booked.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/contract",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = ContractRequest,
    responses(
        (status = 201, description = "the signed contract record", body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`already_answered` (recorded already)", body = Problem),
        (status = 422, description = "`invalid`, `bond_too_high`", body = Problem),
    )
)]
async fn record_contract(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<ContractRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let record = award::record_contract(
        state.db(),
        state.signer(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &body.contract_price,
        body.performance_bond.as_deref(),
        state.deposits().interest_rate,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok((StatusCode::CREATED, Json(record)))
}
