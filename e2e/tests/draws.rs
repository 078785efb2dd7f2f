//! An expert draw on the real binary, in an accelerated sandbox tender, with its mail through a real
//! SMTP server on loopback (issue "Evaluation experts"; docs/spec/draws.md): the pool imported on
//! the command line, invitations mailed, a decline and an invitation left to run out each pass
//! the seat down the ranking (87号令 Art 49) through the chronograph, the committee completes, and
//! `tenderhall draw verify` re-checks the proof offline.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tenderhall_e2e::Site;
use tenderhall_e2e::api::credit_code;
use tenderhall_workers::testing::SmtpServer;

const PASSWORD: &str = "correct-horse-42";

async fn signed_in(base: &str, email: &str, kind: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::new();
    let account = json!({
        "email": email, "password": PASSWORD, "name": "测试",
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
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    Ok(session["token"].as_str().unwrap_or_default().to_owned())
}

/// (recipient, invitation token) of every invitation the SMTP server received, in order.
fn invitations(smtp: &SmtpServer) -> anyhow::Result<Vec<(String, String)>> {
    let marker = "/expert-invitations/";
    let mut found = Vec::new();
    for message in smtp.messages()? {
        let unfolded = message;
        let Some(at) = unfolded.find(marker) else {
            continue;
        };
        let token: String = unfolded[at + marker.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        let to = unfolded
            .lines()
            .find_map(|l| l.strip_prefix("To: "))
            .unwrap_or_default()
            .trim()
            .to_owned();
        found.push((to, token));
    }
    Ok(found)
}

/// Waits until at least `n` invitations have arrived.
async fn wait_for_invitations(
    smtp: &SmtpServer,
    n: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let started = Instant::now();
    loop {
        let found = invitations(smtp)?;
        if found.len() >= n {
            return Ok(found);
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "only {} of {n} invitations arrived",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn art_49_a_decline_and_a_silent_expert_are_replaced_down_the_ranking_through_real_mail()
-> anyhow::Result<()> {
    let site = Site::new().await?;
    let Some(smtp) = SmtpServer::start_in(site.dir.path()).await? else {
        return Ok(());
    };
    // Seven experts of A01, each of its own employer.
    let mut csv =
        "expert_id,name,email,specialty,region,employer_credit_code,title,years\n".to_owned();
    for i in 1..=7 {
        csv.push_str(&format!(
            "exp_{i},专家{i},exp_{i}@experts.test,A01,330100,{},高级工程师,10\n",
            credit_code(i)
        ));
    }
    let pool = site.dir.path().join("pool.csv");
    std::fs::write(&pool, csv)?;
    let (ok, out, err) = site
        .run(&["experts", "import", &pool.display().to_string()])
        .await?;
    assert!(ok, "{out}{err}");
    assert!(out.contains("7 experts imported"), "{out}");

    // At an accelerator of 1,000,000 an invitation of 2,222 hours runs 8 seconds.
    let mut cmd = site.command(&["serve", "--sandbox", "--listen", "127.0.0.1:0"])?;
    cmd.env("TENDERHALL_SMTP_URL", smtp.url())
        .env("TENDERHALL_INVITATION_HOURS", "2222")
        .env("TENDERHALL_AUDIT_HEAD_INTERVAL_SECONDS", "1");
    let server = tenderhall_e2e::Server::start(cmd).await?;
    let client = reqwest::Client::new();
    let tenderer = signed_in(&server.base, "t@draw.test", "tenderer").await?;
    let supervisor = signed_in(&server.base, "s@draw.test", "supervisor").await?;

    let deadline: DateTime<Utc> = Utc::now() + chrono::Duration::seconds(4);
    let tender = json!({
        "title": "抽取测试", "kind": "construction", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
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

    // The window opens 48 hours ÷ 1,000,000 (at least a second) before the deadline.
    let started = Instant::now();
    let draw = loop {
        let res = client
            .post(server.url(&format!("/api/v1/tenders/{id}/lots/1/draws")))
            .bearer_auth(&tenderer)
            .json(&json!({"seats": [{"specialty": "A01", "count": 5}]}))
            .send()
            .await?;
        if res.status() == StatusCode::CREATED {
            let body: Value = res.json().await?;
            break body["draw_id"].as_str().unwrap_or_default().to_owned();
        }
        anyhow::ensure!(
            res.status() == StatusCode::CONFLICT && started.elapsed() < Duration::from_secs(20),
            "draw request: {}",
            res.text().await?
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let first = wait_for_invitations(&smtp, 5).await?;
    let invited: BTreeSet<String> = first.iter().map(|(to, _)| to.clone()).collect();
    assert_eq!(invited.len(), 5, "{first:?}");
    // One declines, one stays silent, three accept.
    let answer = |token: &str, verb: &str| {
        let url = server.url(&format!("/api/v1/expert-invitations/{token}/{verb}"));
        client.post(url).json(&json!({"no_conflict": true})).send()
    };
    assert_eq!(
        answer(&first[0].1, "decline").await?.status(),
        StatusCode::OK
    );
    for (_, token) in &first[2..5] {
        assert_eq!(answer(token, "accept").await?.status(), StatusCode::OK);
    }
    // The decline brings a sixth invitation at once; the silence a seventh when it runs out.
    let all = wait_for_invitations(&smtp, 7).await?;
    for (to, token) in &all[5..7] {
        assert!(!invited.contains(to), "{to} was invited twice");
        assert_eq!(answer(token, "accept").await?.status(), StatusCode::OK);
    }
    let silent = &first[1].1;
    let res = answer(silent, "accept").await?;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "a run-out invitation is closed"
    );

    let view: Value = client
        .get(server.url(&format!("/api/v1/draws/{draw}")))
        .bearer_auth(&supervisor)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(view["status"], "complete", "{view}");
    let statuses: Vec<String> = view["members"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| m["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(statuses.iter().filter(|s| *s == "accepted").count(), 5);
    assert!(
        statuses.contains(&"declined".to_owned()) && statuses.contains(&"timed_out".to_owned())
    );

    // The proof, re-checked offline by the command line.
    let proof = client
        .get(server.url(&format!("/api/v1/draws/{draw}/proof")))
        .bearer_auth(&supervisor)
        .send()
        .await?
        .text()
        .await?;
    let file = site.dir.path().join("proof.json");
    std::fs::write(&file, &proof)?;
    let (ok, out, err) = site
        .run(&["draw", "verify", &file.display().to_string()])
        .await?;
    assert!(ok, "{out}{err}");
    let mut forged: Value = serde_json::from_str(&proof)?;
    forged["public_input"] = json!("head:1:00");
    std::fs::write(&file, forged.to_string())?;
    let (ok, _, err) = site
        .run(&["draw", "verify", &file.display().to_string()])
        .await?;
    assert!(!ok && err.contains("ranking"), "{err}");
    server.stop().await?;
    Ok(())
}
