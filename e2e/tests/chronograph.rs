//! The chronograph on the real binary: a deadline fires within one second of its time, not at the
//! next poll (the one place a test asserts time).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tenderhall_e2e::Site;

async fn signed_in(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    kind: &str,
) -> anyhow::Result<String> {
    let account = json!({
        "email": email, "password": "correct-horse-42", "name": "测试",
        "organization": {"name": format!("{kind} 单位"), "kind": kind, "credit_code": "12100000400000000W"}
    });
    let res = client
        .post(format!("{base}/api/v1/accounts"))
        .json(&account)
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::CREATED,
        "register: {}",
        res.text().await?
    );
    let session: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"email": email, "password": "correct-horse-42"}))
        .send()
        .await?
        .json()
        .await?;
    Ok(session["token"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_accelerated_tender_closes_within_one_second_of_its_deadline() -> anyhow::Result<()> {
    let site = Site::new().await?;
    // A long poll interval: closing on time must come from sleeping until the deadline, not polling.
    let mut cmd = site.command(&["serve", "--sandbox", "--listen", "127.0.0.1:0"])?;
    cmd.env("TENDERHALL_JOB_POLL_SECONDS", "60");
    let server = tenderhall_e2e::Server::start(cmd).await?;
    let client = reqwest::Client::new();
    let tenderer = signed_in(&client, &server.base, "t@chrono.test", "tenderer").await?;
    let supervisor = signed_in(&client, &server.base, "s@chrono.test", "supervisor").await?;

    // 20 days at 1,000,000 is under two seconds; the deadline is four seconds away.
    let deadline: DateTime<Utc> = Utc::now() + chrono::Duration::seconds(4);
    let tender = json!({
        "title": "计时测试", "kind": "construction", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
        "lots": [{"id": "1", "title": "施工", "budget": "1000000", "deposit": "10000"}],
        "bid_deadline": deadline.to_rfc3339(), "accelerator": 1_000_000
    });
    let created: Value = client
        .post(server.url("/api/v1/tenders"))
        .bearer_auth(&tenderer)
        .json(&tender)
        .send()
        .await?
        .json()
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let res = client
        .post(server.url(&format!("/api/v1/tenders/{id}/publish")))
        .bearer_auth(&tenderer)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);

    let started = Instant::now();
    let observed = loop {
        let t: Value = client
            .get(server.url(&format!("/api/v1/tenders/{id}")))
            .send()
            .await?
            .json()
            .await?;
        if t["status"] == "closed" {
            break Utc::now();
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(15),
            "the tender never closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(observed >= deadline, "closed before its deadline");
    let late = observed - deadline;
    assert!(
        late < chrono::Duration::milliseconds(1000 + 100),
        "seen closed {late} after the deadline"
    );

    let log: Value = client
        .get(server.url(&format!("/api/v1/tenders/{id}/audit")))
        .bearer_auth(&supervisor)
        .send()
        .await?
        .json()
        .await?;
    let close = log["items"]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["action"] == "tender.close"))
        .cloned()
        .unwrap_or_default();
    let late_ms = close["details"]["late_by_ms"].as_i64().unwrap_or(i64::MAX);
    assert!(
        (0..1000).contains(&late_ms),
        "closed {late_ms} ms after the deadline"
    );
    server.stop().await?;
    Ok(())
}
