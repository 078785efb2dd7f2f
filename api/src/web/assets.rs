//! The portal's stylesheet and scripts, embedded in the binary so `serve` needs no other file
//! and no build step. Small, dependency-free, and the only scripts the CSP lets run.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::PageError;
use crate::error::ApiError;

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    ),
];

/// `GET /assets/{name}`, revalidated by ETag (the hash of the embedded text), so a new binary's
/// assets are picked up at once.
pub async fn asset(
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return Err(PageError(ApiError::not_found()));
    };
    let etag = format!(
        "\"{}\"",
        &hex::encode(ring::digest::digest(&ring::digest::SHA256, body.as_bytes()))[..16]
    );
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if fresh {
        axum::http::StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, *content_type)], *body).into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    );
    Ok(response)
}
