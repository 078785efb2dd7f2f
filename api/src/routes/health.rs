//! Health and operations: `/healthz`, `/readyz`, `/metrics`, and the landing page.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
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
        .routes(routes!(landing))
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

/// The landing page: where to go next.
#[utoipa::path(get, path = "/", tag = "operations", responses((status = 200, content_type = "text/html")))]
async fn landing(State(state): State<AppState>) -> Html<String> {
    let sandbox = if state.settings().sandbox {
        "<p class=\"warn\">沙箱模式：机构注册即通过审核，切勿用于真实交易。<br>Sandbox: organizations are verified at once; never use with real data.</p>"
    } else {
        ""
    };
    Html(format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Tenderhall 电子交易平台</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;line-height:1.6}}.warn{{color:#a40}}code{{background:#f3f3f3;padding:0 .2rem}}</style></head>
<body><h1>Tenderhall 公共资源电子交易平台</h1>
<p>招标、采购、出让与拍卖全流程在线完成。<br>An electronic public-resource trading platform: tenders, procurement, rights sales and auctions, online.</p>
{sandbox}
<ul>
<li><a href="/api/v1/docs/">接口文档 API reference</a> (<a href="/api/v1/openapi.json">openapi.json</a>)</li>
<li><a href="/api/v1/platform/keys">平台公钥 Platform keys</a></li>
<li><a href="/readyz">运行状态 Readiness</a></li>
</ul>
<p>注册账户 Register: <code>POST /api/v1/accounts</code> · 登录 Sign in: <code>POST /api/v1/sessions</code></p>
</body></html>"#
    ))
}
