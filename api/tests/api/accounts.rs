//! Registration (docs/spec/api-contract.md "Accounts and keys").

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResult, assert_problem, registration};

#[tokio::test]
async fn registration_creates_an_account_and_an_unverified_organization() -> TestResult {
    let app = TestApp::spawn().await?;
    let res = app
        .post(
            "/api/v1/accounts",
            &registration("li.si@bidder.test", "bidder"),
            None,
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await?;
    assert!(
        body["account_id"]
            .as_str()
            .is_some_and(|s| s.starts_with("acc_"))
    );
    assert!(
        body["organization_id"]
            .as_str()
            .is_some_and(|s| s.starts_with("org_"))
    );
    assert_eq!(body["verified"], false);
    Ok(())
}

#[tokio::test]
async fn a_sandbox_server_verifies_organizations_at_once() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let res = app
        .post(
            "/api/v1/accounts",
            &registration("li.si@bidder.test", "bidder"),
            None,
        )
        .await?;
    let body: Value = res.json().await?;
    assert_eq!(body["verified"], true);
    Ok(())
}

#[tokio::test]
async fn an_email_registers_once_whatever_its_case() -> TestResult {
    let app = TestApp::spawn().await?;
    app.register("wang.wu@tenderer.test", "tenderer").await?;
    let res = app
        .post(
            "/api/v1/accounts",
            &registration("Wang.Wu@Tenderer.TEST", "bidder"),
            None,
        )
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "email_taken").await?;
    Ok(())
}

#[tokio::test]
async fn api_md_weak_passwords_are_refused_and_nothing_is_stored() -> TestResult {
    let app = TestApp::spawn().await?;
    for weak in ["short1a", "onlyletterslong", "12345678901"] {
        let mut body = registration("zhao@bidder.test", "bidder");
        body["password"] = json!(weak);
        let res = app.post("/api/v1/accounts", &body, None).await?;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "weak_password").await?;
        assert_eq!(problem["field"], "password");
    }
    // Nothing was half-written: the address is still free.
    app.register("zhao@bidder.test", "bidder").await?;
    Ok(())
}

#[tokio::test]
async fn an_unknown_organization_kind_is_refused_with_the_known_ones() -> TestResult {
    let app = TestApp::spawn().await?;
    let mut body = registration("a@b.test", "bidder");
    body["organization"]["kind"] = json!("government");
    let res = app.post("/api/v1/accounts", &body, None).await?;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert_eq!(problem["field"], "organization.kind");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("tenderer") && d.contains("supervisor"))
    );
    Ok(())
}

#[tokio::test]
async fn a_malformed_email_is_refused_naming_the_field() -> TestResult {
    let app = TestApp::spawn().await?;
    let mut body = registration("a@b.test", "bidder");
    body["email"] = json!("not-an-address");
    let res = app.post("/api/v1/accounts", &body, None).await?;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert_eq!(problem["field"], "email");
    Ok(())
}

/// GB 32100-2015: the credit code's last character checks the other seventeen; a code typed with
/// one wrong character is refused before an organization is created under it.
#[tokio::test]
async fn a_credit_code_with_a_wrong_check_character_is_refused() -> TestResult {
    let app = TestApp::spawn().await?;
    let mut body = registration("a@b.test", "bidder");
    body["organization"]["credit_code"] = json!("91110000100000000X");
    let res = app.post("/api/v1/accounts", &body, None).await?;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert_eq!(problem["field"], "organization.credit_code");
    body["organization"]["credit_code"] = json!("91110000100000000R");
    let res = app.post("/api/v1/accounts", &body, None).await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    Ok(())
}
