//! Logs (tracing) and metrics (Prometheus text format).
//!
//! Metrics carry method, route template and status only: no tender, lot or bidder ever appears in
//! a label (API.md "Who sees what": `/metrics` carries no per-tender or per-lot counts).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

/// Starts logging to standard error: `text` for people, `json` for log collectors.
pub fn init_logging(format: &str) {
    let filter = EnvFilter::try_from_env("TENDERHALL_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The process's metrics recorder. The `metrics` facade is process-wide by design, so the
/// recorder is installed once, however many servers a test process starts.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ])
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Another recorder may already be installed (never by us); then ours only renders.
        let _ = metrics::set_global_recorder(recorder);
        metrics::describe_counter!(
            "http_requests_total",
            "HTTP requests answered, by method, route and status"
        );
        metrics::describe_histogram!(
            "http_request_duration_seconds",
            "Time to answer HTTP requests"
        );
        handle
    })
}

/// Counts and times every request by its route template.
/// Routes whose traffic would tell who registers, pays or bids, or how many (API.md "Who sees
/// what", 电子招标投标办法 Art 21): not counted in the public metrics at all.
fn is_sealed_route(route: &str) -> bool {
    route.ends_with("/bid")
        || route.contains("/bid/")
        || route.ends_with("/registrations")
        || route.ends_with("/document-fee")
        || route.starts_with("/api/v1/bank/")
        || route.starts_with("/api/v1/sandbox/bank/")
}

pub async fn track_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    if is_sealed_route(&route) {
        return response;
    }
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
