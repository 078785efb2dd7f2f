//! The portal's stylesheet and scripts, embedded in the binary so `serve` needs no other file
//! and no build step. Small, dependency-free, and the only scripts the CSP lets run.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::PageError;
use crate::error::ApiError;

const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.css", CSS, include_bytes!("../../assets/app.css")),
    ("app.js", JS, include_bytes!("../../assets/app.js")),
    (
        "tender-form.js",
        JS,
        include_bytes!("../../assets/tender-form.js"),
    ),
    ("upload.js", JS, include_bytes!("../../assets/upload.js")),
    ("seal.js", JS, include_bytes!("../../assets/seal.js")),
    (
        "seal-worker.js",
        JS,
        include_bytes!("../../assets/seal-worker.js"),
    ),
    ("sha256.js", JS, include_bytes!("../../assets/sha256.js")),
    // Assembled from assets/sha256.wat by build.rs.
    (
        "sha256.wasm",
        "application/wasm",
        include_bytes!(concat!(env!("OUT_DIR"), "/sha256.wasm")),
    ),
];
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

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
        &hex::encode(ring::digest::digest(&ring::digest::SHA256, body))[..16]
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::ASSETS;

    #[test]
    fn every_asset_a_template_names_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/web");
        let mut named = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for (i, _) in text.match_indices("\"/assets/") {
                let rest = &text[i + "\"/assets/".len()..];
                let name = &rest[..rest.find('"').unwrap()];
                assert!(
                    ASSETS.iter().any(|(n, _, _)| *n == name),
                    "/assets/{name} is not embedded"
                );
                named += 1;
            }
        }
        assert!(named >= 5, "the scan found the templates' assets");
    }
}
