//! Mail and notifications: the outbox folder of the embedded default, a real SMTP server on
//! loopback, idempotent sending, password reset by mailed link, notifications in the platform.

use std::path::Path;

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tenderhall_api::cli::worker_context;
use tenderhall_domain::jobs::JobStatus;
use tenderhall_domain::jobs::service::list;
use tenderhall_workers::runner::Runner;
use tenderhall_workers::testing::SmtpServer;

use crate::helpers::{PASSWORD, TestApp, TestResult, assert_problem, registration, text};

async fn drain(app: &TestApp) -> anyhow::Result<()> {
    let runner = Runner::new(worker_context(&app.state)?);
    while runner.run_one().await? {}
    Ok(())
}

fn messages(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    if dir.is_dir() {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "eml") {
                found.push(std::fs::read_to_string(path)?);
            }
        }
    }
    Ok(found)
}

fn reset_token(message: &str) -> Option<String> {
    // Quoted-printable: soft line breaks dropped, `=3D` back to `=`.
    let unfolded = message
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = unfolded.find("?token=")? + "?token=".len();
    Some(
        unfolded[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect(),
    )
}

async fn register_en(app: &TestApp, email: &str) -> anyhow::Result<()> {
    let mut body = registration(email, "bidder");
    body["language"] = json!("en");
    let res = app.post("/api/v1/accounts", &body, None).await?;
    anyhow::ensure!(res.status() == StatusCode::CREATED, "{}", res.text().await?);
    Ok(())
}

#[tokio::test]
async fn a_password_is_reset_by_a_single_use_mailed_link_and_old_sessions_end() -> TestResult {
    let app = TestApp::spawn().await?;
    register_en(&app, "forgot@bidder.test").await?;
    let old_session = app.sign_in("forgot@bidder.test", PASSWORD).await?;

    let known = app
        .post(
            "/api/v1/password-resets",
            &json!({"email": "forgot@bidder.test"}),
            None,
        )
        .await?;
    let unknown = app
        .post(
            "/api/v1/password-resets",
            &json!({"email": "nobody@bidder.test"}),
            None,
        )
        .await?;
    assert_eq!(
        (known.status(), unknown.status()),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    assert_eq!(
        known.json::<Value>().await?,
        unknown.json::<Value>().await?,
        "the answer tells which addresses exist"
    );

    drain(&app).await?;
    let outbox = app.settings.outbox_dir();
    let mail = messages(&outbox)?;
    assert_eq!(mail.len(), 1, "one message, to the registered address only");
    assert!(mail[0].contains("To: forgot@bidder.test"));
    assert!(mail[0].contains("Subject: Reset your Tenderhall password"));
    let token = reset_token(&mail[0]).ok_or_else(|| anyhow::anyhow!("no link in {}", mail[0]))?;

    let weak = app
        .post(
            &format!("/api/v1/password-resets/{token}"),
            &json!({"password": "short"}),
            None,
        )
        .await?;
    assert_problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "weak_password").await?;
    let res = app
        .post(
            &format!("/api/v1/password-resets/{token}"),
            &json!({"password": "brand-new-2027"}),
            None,
        )
        .await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    assert_problem(
        app.get("/api/v1/sessions/current", Some(&old_session))
            .await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    let old = app
        .post(
            "/api/v1/sessions",
            &json!({"email": "forgot@bidder.test", "password": PASSWORD}),
            None,
        )
        .await?;
    assert_problem(old, StatusCode::UNAUTHORIZED, "bad_credentials").await?;
    app.sign_in("forgot@bidder.test", "brand-new-2027").await?;

    let again = app
        .post(
            &format!("/api/v1/password-resets/{token}"),
            &json!({"password": "another-one-2028"}),
            None,
        )
        .await?;
    assert_problem(
        again,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reset_token_invalid",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_reset_link_expires_after_30_minutes() -> TestResult {
    let app = TestApp::spawn().await?;
    register_en(&app, "slow@bidder.test").await?;
    app.post(
        "/api/v1/password-resets",
        &json!({"email": "slow@bidder.test"}),
        None,
    )
    .await?;
    drain(&app).await?;
    let token = messages(&app.settings.outbox_dir())?
        .first()
        .and_then(|m| reset_token(m))
        .unwrap_or_default();
    app.clock.advance(TimeDelta::minutes(31));
    let res = app
        .post(
            &format!("/api/v1/password-resets/{token}"),
            &json!({"password": "brand-new-2027"}),
            None,
        )
        .await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "reset_token_invalid").await?;
    Ok(())
}

#[tokio::test]
async fn a_mail_job_run_twice_sends_its_message_once() -> TestResult {
    let app = TestApp::spawn().await?;
    register_en(&app, "twice@bidder.test").await?;
    app.post(
        "/api/v1/password-resets",
        &json!({"email": "twice@bidder.test"}),
        None,
    )
    .await?;
    drain(&app).await?;
    let done = list(app.state.db(), Some(JobStatus::Done), 10).await?;
    assert_eq!(done.len(), 1);
    // The worker died after the server accepted the message but before the job was recorded done:
    // the job runs again.
    tenderhall_workers::jobs::dispatch(&worker_context(&app.state)?, &done[0]).await?;
    assert_eq!(messages(&app.settings.outbox_dir())?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn the_tenderer_is_notified_in_the_platform_and_by_mail_when_bids_close() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (tenderer, _) = app.member("owner@tenderer.test", "tenderer").await?;
    let id = app
        .published_goods_tender(&tenderer, "通知测试项目", 21)
        .await?;
    app.clock.advance(TimeDelta::days(21));
    drain(&app).await?;

    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(tender["status"], "closed");
    // Three weeks on, the session has long expired: sign in again.
    let tenderer = app.sign_in("owner@tenderer.test", PASSWORD).await?;
    let unread: Value = app
        .get("/api/v1/notifications?unread=true", Some(&tenderer))
        .await?
        .json()
        .await?;
    // The question period ended ten days earlier (its own notice); this is about the close.
    let closed_only = |v: &Value| -> Vec<Value> {
        v["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|n| n["kind"] == "tender.closed")
            .collect()
    };
    let items = closed_only(&unread);
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["title"], "投标已截止：通知测试项目",
        "notifications speak the account's language (zh-CN by default)"
    );
    assert_eq!(items[0]["object"], format!("tender:{id}"));
    let read = app
        .post(
            &format!("/api/v1/notifications/{}/read", text(&items[0]["id"])),
            &json!({}),
            Some(&tenderer),
        )
        .await?;
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    let unread: Value = app
        .get("/api/v1/notifications?unread=true", Some(&tenderer))
        .await?
        .json()
        .await?;
    assert!(closed_only(&unread).is_empty());
    let mails = messages(&app.settings.outbox_dir())?;
    assert_eq!(
        mails.len(),
        3,
        "the close was mailed too, after the end of the question period, and the lot's opening \
         (it failed: no bids)"
    );
    Ok(())
}

#[tokio::test]
async fn mail_goes_through_a_real_smtp_server_once() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let Some(smtp) = SmtpServer::start_in(tmp.path()).await? else {
        return Ok(());
    };
    let url = smtp.url();
    let app = TestApp::spawn_with(|s| s.smtp_url = Some(tenderhall_api::config::Secret::new(url)))
        .await?;
    register_en(&app, "smtp@bidder.test").await?;
    app.post(
        "/api/v1/password-resets",
        &json!({"email": "smtp@bidder.test"}),
        None,
    )
    .await?;
    drain(&app).await?;

    let received = smtp.messages()?;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert!(message.contains("To: smtp@bidder.test"), "{message}");
    assert!(
        message.contains("From: Tenderhall <noreply@tenderhall.localhost>"),
        "{message}"
    );
    assert!(message.contains("Subject: Reset your Tenderhall password"));
    assert!(message.contains("Message-ID: <reset_"), "{message}");
    assert!(reset_token(message).is_some());
    assert!(
        messages(&app.settings.outbox_dir())?.is_empty(),
        "SMTP configured, yet mail went to the outbox"
    );

    let done = list(app.state.db(), Some(JobStatus::Done), 10).await?;
    tenderhall_workers::jobs::dispatch(&worker_context(&app.state)?, &done[0]).await?;
    assert_eq!(
        smtp.messages()?.len(),
        1,
        "a retried job sent the message again"
    );
    Ok(())
}
