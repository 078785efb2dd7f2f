//! Evaluation (docs/spec/evaluation.md): for now the K of the mean-base price formula, committed
//! at publication and drawn at the opening, which anyone may read and re-check.

use axum::Json;
use axum::extract::{Path, State};
use tenderhall_domain::id::{LotId, TenderId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(price_k))
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
