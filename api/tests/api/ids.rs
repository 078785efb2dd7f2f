//! Path ids that cannot be ids (docs/spec/api-contract.md "Conventions": `[A-Za-z0-9_-]{1,64}`).
//! The routes parse them into typed ids; each must answer what it answered when the services took
//! them as text and looked them up.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResult, assert_problem};

/// One character too many for an id.
fn not_an_id() -> String {
    "x".repeat(65)
}

#[tokio::test]
async fn an_id_that_cannot_be_one_is_404_to_whoever_may_ask() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@ids.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@ids.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "编号", 21).await?;
    let bad = not_an_id();

    for (path, token) in [
        (format!("/api/v1/tenders/{bad}"), None),
        (format!("/api/v1/tenders/{bad}/questions"), None),
        (
            format!("/api/v1/tenders/{id}/documents/{bad}"),
            Some(&bidder),
        ),
        (format!("/api/v1/tenders/{id}/lots/{bad}/opening"), None),
        (
            format!("/api/v1/tenders/{id}/lots/{bad}/bid"),
            Some(&bidder),
        ),
    ] {
        let res = app.get(&path, token.map(String::as_str)).await?;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    }
    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/lots/{bad}/registrations"),
            &json!({}),
            Some(&bidder),
        )
        .await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    let res = app
        .post(
            &format!("/api/v1/notifications/{bad}/read"),
            &json!({}),
            Some(&bidder),
        )
        .await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn who_may_not_ask_at_all_is_refused_whatever_the_id() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    let (tenderer, _) = app.member("owner@ids.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@ids.test", "bidder").await?;
    let bad = not_an_id();

    // A tenderer on a bidder's routes.
    let res = app
        .post(
            &format!("/api/v1/tenders/{bad}/lots/1/registrations"),
            &json!({}),
            Some(&tenderer),
        )
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    let res = app
        .get(
            &format!("/api/v1/tenders/{bad}/lots/1/bid"),
            Some(&tenderer),
        )
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    // Flags are for supervisors alone.
    let res = app
        .get(&format!("/api/v1/tenders/{bad}/flags"), Some(&bidder))
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    // An organization is refused to strangers before it is looked for; an operator looks.
    let path = format!("/api/v1/organizations/{bad}");
    assert_problem(
        app.get(&path, Some(&bidder)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    assert_problem(
        app.get(&path, Some(&operator)).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    // Signing keys are their organization's members' alone.
    let res = app
        .get(
            &format!("/api/v1/organizations/{bad}/signing-keys"),
            Some(&bidder),
        )
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    Ok(())
}

#[tokio::test]
async fn a_refund_filter_that_cannot_be_an_id_lists_nothing() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let res = app
        .get(
            &format!("/api/v1/bank/refunds?tender_id={}", not_an_id()),
            Some(&operator),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await?;
    assert_eq!(body, json!({"items": []}));
    Ok(())
}

/// A registration is withdrawn by its id: the lot in the path is not read.
#[tokio::test]
async fn the_lot_in_a_registrations_path_is_not_read() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@ids.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@ids.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "报名", 21).await?;
    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/lots/1/registrations"),
            &json!({}),
            Some(&bidder),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let registration: Value = res.json().await?;
    let reg = registration["registration_id"].as_str().unwrap_or_default();
    let res = app
        .delete(
            &format!(
                "/api/v1/tenders/{id}/lots/{}/registrations/{reg}",
                not_an_id()
            ),
            Some(&bidder),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await?;
    assert_eq!(body["registration_id"], reg);
    Ok(())
}

/// Withdrawing and revoking answer the deadline before they look for the lot.
#[tokio::test]
async fn the_deadline_is_answered_before_the_lot_of_a_bid() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@ids.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@ids.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "截止", 21).await?;
    let bid = format!("/api/v1/tenders/{id}/lots/{}/bid", not_an_id());

    let res = app
        .post(&format!("{bid}/revoke"), &json!({}), Some(&bidder))
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "deadline_not_passed").await?;
    app.clock.advance(TimeDelta::days(22));
    // The session ran out meanwhile.
    let bidder = app.sign_in("bidder@ids.test", PASSWORD).await?;
    let res = app.delete(&bid, Some(&bidder)).await?;
    assert_problem(res, StatusCode::CONFLICT, "deadline_passed").await?;
    Ok(())
}
