//! The platform key, health and the OpenAPI document (docs/spec/api-contract.md "Accounts and keys", "Health").

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, TestResult};

#[tokio::test]
async fn the_platform_key_is_published_and_survives_a_restart() -> TestResult {
    let app = TestApp::spawn().await?;
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    let key_id = keys["receipt_key"]["key_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(key_id.len(), 64);
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(
        keys["receipt_key"]["public_key"]
            .as_str()
            .unwrap_or_default(),
    )?;
    assert_eq!(raw.len(), 32);
    assert_eq!(
        key_id,
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &raw))
    );

    // A second node on the same database and master key uses the same key.
    let again = tenderhall_api::platform::open(app.settings.clone(), app.state.clock()).await?;
    assert_eq!(again.signer().key_id(), key_id);
    Ok(())
}

#[tokio::test]
async fn another_master_key_cannot_open_the_platform_key() -> TestResult {
    let app = TestApp::spawn().await?;
    let mut other = app.settings.clone();
    other.master_key = Some(tenderhall_api::config::Secret::new(
        tenderhall_domain::keys::MasterKey::generate()?.to_base64(),
    ));
    let err = tenderhall_api::platform::open(other, app.state.clock())
        .await
        .err()
        .map(|e| format!("{e:#}"));
    assert!(err.is_some_and(|e| e.contains("master key")));
    Ok(())
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() -> TestResult {
    let app = TestApp::spawn().await?;
    assert_eq!(app.get("/healthz", None).await?.status(), StatusCode::OK);
    let ready: Value = app.get("/readyz", None).await?.json().await?;
    assert_eq!(ready["database"], "ok");
    app.get("/api/v1/platform/keys", None).await?;
    let metrics = app.get("/metrics", None).await?.text().await?;
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/platform/keys\""));
    Ok(())
}

#[tokio::test]
async fn readiness_fails_while_the_document_store_is_unreachable() -> TestResult {
    let app = TestApp::spawn().await?;
    let ready: Value = app.get("/readyz", None).await?.json().await?;
    assert_eq!(ready["documents"], "local");
    let root = app.settings.documents_dir();
    std::fs::rename(&root, root.with_extension("away"))?;
    std::fs::write(&root, b"not a folder")?;
    let res = app.get("/readyz", None).await?;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.json::<Value>().await?["code"], "unavailable");
    std::fs::remove_file(&root)?;
    std::fs::rename(root.with_extension("away"), &root)?;
    assert_eq!(app.get("/readyz", None).await?.status(), StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() -> TestResult {
    let app = TestApp::spawn().await?;
    app.state.db().clone().close().await?;
    let res = app.get("/readyz", None).await?;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await?;
    assert_eq!(body["code"], "unavailable");
    Ok(())
}

#[tokio::test]
async fn the_openapi_document_describes_the_fixed_api_and_the_page_works_offline() -> TestResult {
    let app = TestApp::spawn().await?;
    let doc: Value = app.get("/api/v1/openapi.json", None).await?.json().await?;
    for path in [
        "/api/v1/accounts",
        "/api/v1/sessions",
        "/api/v1/sessions/current",
        "/api/v1/organizations/{org}",
        "/api/v1/organizations/{org}/signing-keys",
        "/api/v1/platform/keys",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let page = app.get("/api/v1/docs/", None).await?.text().await?;
    assert!(page.contains("swagger-ui"));
    // Its scripts come from this server, not from a CDN.
    assert!(
        !page.contains("https://"),
        "the docs page loads something from the network"
    );
    let script = app.get("/api/v1/docs/swagger-ui-bundle.js", None).await?;
    assert_eq!(script.status(), StatusCode::OK);
    Ok(())
}

/// RFC 9457: every refusal is `application/problem+json`, and the document says so; a secured
/// operation lists 401 and 403, one with a JSON body 400 and 422 (schemathesis checks the rest
/// against the live server in CI: .ci/schemathesis).
#[tokio::test]
async fn the_openapi_document_declares_refusals_as_problems_with_their_statuses() -> TestResult {
    let app = TestApp::spawn().await?;
    let doc: Value = app.get("/api/v1/openapi.json", None).await?.json().await?;
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    assert!(paths.len() > 40);
    for (path, item) in &paths {
        for (method, op) in item.as_object().into_iter().flatten() {
            let responses = op["responses"].as_object().cloned().unwrap_or_default();
            for (status, response) in &responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let types: Vec<&String> = response["content"]
                        .as_object()
                        .map(|c| c.keys().collect())
                        .unwrap_or_default();
                    assert_eq!(
                        types,
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                for status in ["401", "403"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                for status in ["400", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
        }
    }
    Ok(())
}
