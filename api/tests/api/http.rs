//! The HTTP surface: problems for malformed, unknown-field and oversized bodies, languages,
//! request ids, unknown routes (docs/spec/api-contract.md "Conventions").

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, TestResult, assert_problem, registration};

#[tokio::test]
async fn malformed_json_is_400_bad_json() -> TestResult {
    let app = TestApp::spawn().await?;
    let res = app
        .request(Method::POST, "/api/v1/accounts", None)
        .header("content-type", "application/json")
        .body("{\"email\": \"a@b.test\", ")
        .send()
        .await?;
    assert_problem(res, StatusCode::BAD_REQUEST, "bad_json").await?;
    Ok(())
}

#[tokio::test]
async fn an_unknown_field_is_refused_naming_it() -> TestResult {
    let app = TestApp::spawn().await?;
    let mut body = registration("a@b.test", "bidder");
    body["role"] = json!("operator");
    let res = app.post("/api/v1/accounts", &body, None).await?;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert_eq!(problem["field"], "role");
    // And nothing was created.
    app.register("a@b.test", "bidder").await?;
    Ok(())
}

#[tokio::test]
async fn a_wrongly_typed_field_is_422_naming_it() -> TestResult {
    let app = TestApp::spawn().await?;
    let mut body = registration("a@b.test", "bidder");
    body["organization"]["name"] = json!(42);
    let res = app.post("/api/v1/accounts", &body, None).await?;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert_eq!(problem["field"], "organization.name");
    Ok(())
}

#[tokio::test]
async fn an_oversized_body_is_413_too_large() -> TestResult {
    let app = TestApp::spawn().await?;
    let mut body = registration("a@b.test", "bidder");
    body["name"] = json!("x".repeat(2 * 1024 * 1024));
    let res = app.post("/api/v1/accounts", &body, None).await?;
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "too_large").await?;
    Ok(())
}

#[tokio::test]
async fn an_oversized_chunked_body_is_413_too() -> TestResult {
    let app = TestApp::spawn().await?;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let res = app
        .request(Method::POST, "/api/v1/sessions", None)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_stream(chunks)))
        .send()
        .await?;
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "too_large").await?;
    Ok(())
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures_util::stream::iter(chunks)
}

#[tokio::test]
async fn a_body_that_is_not_json_by_content_type_is_415() -> TestResult {
    let app = TestApp::spawn().await?;
    let res = app
        .request(Method::POST, "/api/v1/sessions", None)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=a&password=b")
        .send()
        .await?;
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn problems_speak_chinese_when_asked() -> TestResult {
    let app = TestApp::spawn().await?;
    let res = app
        .request(Method::GET, "/api/v1/sessions/current", None)
        .header("accept-language", "zh-CN,zh;q=0.9,en;q=0.5")
        .send()
        .await?;
    assert_eq!(
        res.headers()
            .get("content-language")
            .and_then(|v| v.to_str().ok()),
        Some("zh-CN")
    );
    let problem = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    assert_eq!(problem["title"], "需要登录");

    let res = app
        .request(Method::GET, "/api/v1/sessions/current", None)
        .header("accept-language", "en-GB")
        .send()
        .await?;
    let problem = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    assert_eq!(problem["title"], "Sign-in required");
    Ok(())
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems_with_a_request_id() -> TestResult {
    let app = TestApp::spawn().await?;
    let res = app.get("/api/v1/no-such-thing", None).await?;
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let problem = assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    assert!(request_id.is_some());
    assert_eq!(problem["request_id"].as_str(), request_id.as_deref());

    let res = app
        .request(Method::PUT, "/api/v1/accounts", None)
        .send()
        .await?;
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await?;
    Ok(())
}

#[tokio::test]
async fn a_bad_list_limit_is_422_naming_it() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let res = app
        .get("/api/v1/organizations?limit=100000", Some(&operator))
        .await?;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert_eq!(problem["field"], "limit");
    Ok(())
}

#[tokio::test]
async fn a_malformed_query_parameter_is_422_naming_it() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let res = app
        .get("/api/v1/organizations?verified=maybe", Some(&operator))
        .await?;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert_eq!(problem["field"], "verified");
    Ok(())
}
