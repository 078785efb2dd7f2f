//! Logs (tracing) and metrics (Prometheus text format).
//!
//! Metrics carry method, route template and status only: no tender, lot or bidder ever appears in
//! a label (docs/spec/visibility.md: `/metrics` carries no per-tender or per-lot counts).

use std::io::IsTerminal;
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
        .with_writer(std::io::stderr)
        // Colour only on a terminal: a log redirected to a file or a collector gets plain text.
        .with_ansi(std::io::stderr().is_terminal());
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

/// Requests counted and timed by their own route: only reads and calls whose traffic says nothing
/// about who registers, downloads, pays, asks or bids, or how many (docs/spec/visibility.md, 电子招标投标办法
/// Art 21). An allow-list, so that a route added later is kept out until someone decides it reveals
/// nothing; every other request lands in the one `other` bucket.
const COUNTED_ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/platform/keys"),
    ("GET", "/api/v1/procedures"),
    ("GET", "/api/v1/calendar"),
    ("GET", "/api/v1/audit/heads/latest"),
    ("POST", "/api/v1/sessions"),
    ("DELETE", "/api/v1/sessions/current"),
    ("GET", "/api/v1/tenders"),
    ("GET", "/api/v1/tenders/{id}"),
    ("GET", "/api/v1/tenders/{id}/documents"),
    ("GET", "/api/v1/tenders/{id}/amendments"),
    ("GET", "/api/v1/tenders/{id}/lots/{lot}/opening"),
];

/// The label a request is counted under: its route when the allow-list has it, else `other`.
fn counted_route(method: &str, route: &str) -> Option<&'static (&'static str, &'static str)> {
    COUNTED_ROUTES
        .iter()
        .find(|(m, r)| *m == method && *r == route)
}

/// Counts and times every request: by route for the allow-list, in one bucket for the rest.
pub async fn track_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    match counted_route(&method, &route) {
        Some((method, route)) => {
            let status = response.status().as_u16().to_string();
            metrics::counter!("http_requests_total", "method" => *method, "route" => *route, "status" => status)
                .increment(1);
            metrics::histogram!("http_request_duration_seconds", "method" => *method, "route" => *route)
                .record(started.elapsed().as_secs_f64());
        }
        // Neither the route, nor the method, nor the status (a 409 on a registration's withdrawal
        // would tell that a bid exists), nor the time (a bid upload's would stand out): one count
        // for all the rest of the platform's traffic.
        None => {
            metrics::counter!("http_requests_total", "method" => "other", "route" => "other", "status" => "other")
                .increment(1);
        }
    }
    response
}
