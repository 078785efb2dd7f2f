//! Sign-in, sign-out, expiry and the rate limit on failures (docs/spec/api-contract.md "Accounts and keys").

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResult, assert_problem};

#[tokio::test]
async fn a_signed_in_token_identifies_its_account() -> TestResult {
    let app = TestApp::spawn().await?;
    let (account_id, org_id) = app.register("sun@bidder.test", "bidder").await?;
    let res = app
        .post(
            "/api/v1/sessions",
            &json!({"email": "SUN@bidder.test", "password": PASSWORD}),
            None,
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session: Value = res.json().await?;
    assert!(session["expires_at"].as_str().is_some());
    let token = session["token"].as_str().unwrap_or_default();

    let me: Value = app
        .get("/api/v1/sessions/current", Some(token))
        .await?
        .json()
        .await?;
    assert_eq!(me["account_id"], account_id.as_str());
    assert_eq!(me["organization"]["organization_id"], org_id.as_str());
    assert_eq!(me["organization"]["kind"], "bidder");
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() -> TestResult {
    let app = TestApp::spawn().await?;
    app.register("zhou@bidder.test", "bidder").await?;
    let wrong = app
        .post(
            "/api/v1/sessions",
            &json!({"email": "zhou@bidder.test", "password": "wrong-password-1"}),
            None,
        )
        .await?;
    let wrong = assert_problem(wrong, StatusCode::UNAUTHORIZED, "bad_credentials").await?;
    let unknown = app
        .post(
            "/api/v1/sessions",
            &json!({"email": "nobody@bidder.test", "password": "wrong-password-1"}),
            None,
        )
        .await?;
    let unknown = assert_problem(unknown, StatusCode::UNAUTHORIZED, "bad_credentials").await?;
    assert_eq!(wrong["title"], unknown["title"]);
    assert_eq!(wrong["detail"], unknown["detail"]);
    Ok(())
}

#[tokio::test]
async fn signing_out_ends_the_token_everywhere() -> TestResult {
    let app = TestApp::spawn().await?;
    let (token, _) = app.member("wu@bidder.test", "bidder").await?;
    let res = app.delete("/api/v1/sessions/current", Some(&token)).await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get("/api/v1/sessions/current", Some(&token)).await?;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    let res = app.delete("/api/v1/sessions/current", Some(&token)).await?;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    Ok(())
}

#[tokio::test]
async fn a_token_expires_after_the_session_lifetime() -> TestResult {
    let app = TestApp::spawn_with(|s| s.session_ttl_minutes = 30).await?;
    let (token, _) = app.member("zheng@bidder.test", "bidder").await?;
    app.clock.advance(TimeDelta::minutes(29));
    assert_eq!(
        app.get("/api/v1/sessions/current", Some(&token))
            .await?
            .status(),
        StatusCode::OK
    );
    app.clock.advance(TimeDelta::minutes(2));
    let res = app.get("/api/v1/sessions/current", Some(&token)).await?;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    Ok(())
}

#[tokio::test]
async fn missing_and_forged_tokens_are_401() -> TestResult {
    let app = TestApp::spawn().await?;
    let res = app.get("/api/v1/sessions/current", None).await?;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    let res = app
        .get("/api/v1/sessions/current", Some("th_forged"))
        .await?;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    Ok(())
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_until_the_window_passes() -> TestResult {
    let app = TestApp::spawn().await?;
    app.register("feng@bidder.test", "bidder").await?;
    let wrong = json!({"email": "feng@bidder.test", "password": "guess-number-1"});
    for _ in 0..5 {
        let res = app.post("/api/v1/sessions", &wrong, None).await?;
        assert_problem(res, StatusCode::UNAUTHORIZED, "bad_credentials").await?;
    }
    // Even the right password is refused while the limit holds.
    let right = json!({"email": "feng@bidder.test", "password": PASSWORD});
    let res = app.post("/api/v1/sessions", &right, None).await?;
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await?;
    assert!(
        retry_after.is_some_and(|s| s > 0 && s <= 15 * 60),
        "{retry_after:?}"
    );

    app.clock.advance(TimeDelta::minutes(16));
    assert_eq!(
        app.post("/api/v1/sessions", &right, None).await?.status(),
        StatusCode::CREATED
    );
    Ok(())
}

#[tokio::test]
async fn failures_for_one_address_do_not_lock_out_another() -> TestResult {
    let app = TestApp::spawn().await?;
    app.register("chen@bidder.test", "bidder").await?;
    app.register("chu@bidder.test", "bidder").await?;
    for _ in 0..6 {
        app.post(
            "/api/v1/sessions",
            &json!({"email": "chen@bidder.test", "password": "guess-number-1"}),
            None,
        )
        .await?;
    }
    app.sign_in("chu@bidder.test", PASSWORD).await?;
    Ok(())
}

#[tokio::test]
async fn a_success_restarts_the_count_and_failed_sign_ins_stay_recorded() -> TestResult {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn().await?;
    app.register("lu@bidder.test", "bidder").await?;
    let wrong = json!({"email": "lu@bidder.test", "password": "guess-number-1"});
    for _ in 0..4 {
        app.post("/api/v1/sessions", &wrong, None).await?;
    }
    app.clock.advance(TimeDelta::seconds(1));
    app.sign_in("lu@bidder.test", PASSWORD).await?;
    app.clock.advance(TimeDelta::seconds(1));
    for _ in 0..4 {
        let res = app.post("/api/v1/sessions", &wrong, None).await?;
        assert_problem(res, StatusCode::UNAUTHORIZED, "bad_credentials").await?;
    }
    let db = app.state.db();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM login_failures",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    assert_eq!(
        row.try_get_by_index::<i64>(0)?,
        8,
        "failed sign-ins are a record, kept"
    );
    Ok(())
}
