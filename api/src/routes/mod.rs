//! The HTTP surface: one `router()` per resource file, joined here with the layers every request
//! passes through (request id, trace, metrics, problem rendering, panic catching).

pub mod accounts;
pub mod auctions;
pub mod audit;
pub mod award;
pub mod bank;
pub mod bids;
pub mod calendar;
pub mod candidates;
pub mod clarifications;
mod complaints;
pub mod deposits;
pub mod documents;
pub mod draws;
pub mod evaluation;
mod evaluation_clarifications;
pub mod evaluation_report;
pub mod experts;
pub mod health;
pub mod invitations;
pub mod mandates;
pub mod notifications;
pub mod organizations;
pub mod platform;
mod rounds;
pub mod scoring;
pub mod sessions;
pub mod tenders;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, localize_problems};
use crate::state::AppState;
use crate::telemetry::track_metrics;

/// Builds the whole application for `state`.
pub fn router(state: AppState) -> Router {
    // Install the metrics recorder before the first request is counted.
    crate::telemetry::metrics_handle();
    let (api, openapi) = OpenApiRouter::with_openapi(crate::openapi::base())
        .merge(accounts::router())
        .merge(sessions::router())
        .merge(organizations::router())
        .merge(mandates::router())
        .merge(platform::router())
        .merge(audit::router())
        .merge(tenders::router())
        .merge(calendar::router())
        .merge(clarifications::router())
        .merge(deposits::router())
        .merge(bank::router())
        .merge(bids::router())
        .merge(auctions::router())
        .merge(notifications::router())
        .merge(experts::router())
        .merge(draws::router())
        .merge(invitations::router())
        .merge(evaluation::router())
        .merge(candidates::router())
        .merge(evaluation_clarifications::router())
        .merge(complaints::router())
        .merge(rounds::router())
        .merge(award::router())
        .merge(evaluation_report::router())
        .merge(scoring::router())
        .merge(documents::router(state.settings().max_document_bytes))
        .merge(health::router())
        .split_for_parts();
    let request_id = HeaderName::from_static("x-request-id");
    let body_limit = state.settings().max_json_body_bytes as usize;
    api.merge(crate::openapi::docs_router(openapi))
        .merge(crate::web::router(state.settings().max_document_bytes))
        .fallback(|| async { ApiError::not_found().into_response() })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(localize_problems))
        .layer(axum::middleware::from_fn(track_metrics))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a handler panicked");
            ApiError::internal().into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path())
                })
                .on_response(|res: &axum::http::Response<_>, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "answered");
                }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// `?limit=&cursor=` of every list (docs/spec/api-contract.md "Conventions").
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=200) => Ok(u64::from(n)),
            Some(_) => Err(ApiError::invalid(
                "limit",
                "`limit` must be 1 to 200.",
                "`limit` 须为 1 至 200。",
            )),
        }
    }
}

/// A page of a list.
/// A whole list, for collections small enough to answer in one piece.
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// An RFC 9457 problem, as every refusal is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// The stable machine code, e.g. `invalid`, `unauthenticated`.
    pub code: String,
    /// A sentence in Chinese or English, by `Accept-Language`.
    pub detail: String,
    /// The field at fault, for `invalid`.
    pub field: Option<String>,
    pub request_id: Option<String>,
}
