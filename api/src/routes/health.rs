//! Health and operations: `/healthz`, `/readyz`, `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::telemetry::metrics_handle;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub database: &'static str,
    /// The document store: `local` or `s3`.
    pub documents: &'static str,
}

/// Ready to serve: the database and the document store answer.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, description = "`unavailable`", body = Problem))
)]
async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Readiness>> {
    if let Err(e) = state.db().ping().await {
        tracing::warn!(error = %e, "readiness: database unreachable");
        return Err(ApiError::unavailable(
            "The database does not answer.",
            "数据库无响应。",
        ));
    }
    if let Err(e) = state.store().check().await {
        tracing::warn!(error = %e, "readiness: document store unreachable");
        return Err(ApiError::unavailable(
            "The document store does not answer.",
            "文档存储无响应。",
        ));
    }
    Ok(Json(Readiness {
        status: "ready",
        database: "ok",
        documents: state.store().name(),
    }))
}

/// Prometheus metrics (no per-tender or per-lot counts).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics_handle().render(),
    )
}
