//! Expert draws end to end through the API (issue "Evaluation experts"; docs/spec/draws.md): the
//! committee-size rules (招标投标法 Art 37; 87号令 Art 47), the window, the avoidance rules
//! (政府采购法实施条例 Art 9), the commitment before the public input, invitations with accept,
//! decline and time-out passing the seat on (87号令 Art 49), the proof that re-checks offline, and
//! the committee kept secret from the owner and the bidders (招标投标法 Art 37).

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::deposits::registered;
use crate::experts::{credit_code, import, row};
use crate::helpers::{TestApp, TestResult, assert_problem, text};

/// The token of the newest invitation mailed to `email`.
fn invitation_token(app: &TestApp, email: &str) -> anyhow::Result<Option<String>> {
    let marker = "/expert-invitations/";
    Ok(app
        .outbox()?
        .into_iter()
        .rfind(|m| m.contains(&format!("To: {email}")) && m.contains(marker))
        .map(|m| {
            let start = m.find(marker).unwrap_or(0) + marker.len();
            m[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        }))
}

struct Scene {
    app: TestApp,
    operator: String,
    supervisor: String,
    owner: String,
    bidder: String,
    tender: String,
}

/// A goods tender 21 days out with one registered bidder, and a pool of ten eligible experts of
/// A01 (distinct employers), one employed by a party, one suspended and one of another specialty.
async fn scene() -> anyhow::Result<Scene> {
    // Sessions outlive the weeks the tests move the clock by.
    let app = TestApp::spawn_with(|s| {
        s.sandbox = true;
        s.session_ttl_minutes = 60 * 24 * 60;
    })
    .await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (owner, _) = app.member("owner@draw.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@draw.test", "bidder").await?;
    let tender = app
        .published_goods_tender(&owner, "医疗设备采购", 21)
        .await?;
    let (status, body) = registered(&app, &bidder, &tender).await?;
    anyhow::ensure!(status == StatusCode::CREATED, "registration: {body}");
    let mut rows: Vec<String> = (1..=10)
        .map(|i| row(&format!("exp_{i}"), "A01.02", &credit_code(i)))
        .collect();
    // Every test organization has this credit code: the tenderer's and the bidder's employee.
    rows.push(row("exp_party", "A01", "91110000100000000R"));
    rows.push(row("exp_suspended", "A01", &credit_code(20)));
    rows.push(row("exp_other", "B07", &credit_code(21)));
    import(&app, &operator, &rows).await?;
    let res = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/experts/exp_suspended/suspension",
            Some(&operator),
        )
        .json(&json!({"until": "2099-12-31", "reason": "违规"}))
        .send()
        .await?;
    anyhow::ensure!(res.status() == StatusCode::OK, "suspend");
    Ok(Scene {
        app,
        operator,
        supervisor,
        owner,
        bidder,
        tender,
    })
}

async fn request(
    app: &TestApp,
    token: &str,
    tender: &str,
    seats: u32,
) -> anyhow::Result<reqwest::Response> {
    app.post(
        &format!("/api/v1/tenders/{tender}/lots/1/draws"),
        &json!({"seats": [{"specialty": "A01", "count": seats}], "reserves": 1}),
        Some(token),
    )
    .await
}

async fn supervisor_view(s: &Scene, draw: &str) -> anyhow::Result<Value> {
    Ok(s.app
        .get(&format!("/api/v1/draws/{draw}"), Some(&s.supervisor))
        .await?
        .json()
        .await?)
}

/// The members of `status` in the supervisor's view.
fn members(view: &Value, status: &str) -> Vec<String> {
    view["members"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["status"] == status)
        .map(|m| text(&m["expert_id"]))
        .collect()
}

#[tokio::test]
async fn art_37_47_a_draw_needs_an_odd_committee_of_5_and_opens_48_hours_before_the_deadline()
-> TestResult {
    let s = scene().await?;
    let res = request(&s.app, &s.owner, &s.tender, 5).await?;
    assert_problem(res, StatusCode::CONFLICT, "draw_window_not_open").await?;
    s.app
        .clock
        .advance(TimeDelta::days(19) + TimeDelta::hours(1));
    let res = request(&s.app, &s.owner, &s.tender, 6).await?;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "committee_size_even").await?;
    assert!(text(&body["detail"]).contains("87号令"), "{body}");
    let res = request(&s.app, &s.owner, &s.tender, 3).await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "committee_too_small").await?;
    let res = request(&s.app, &s.owner, &s.tender, 4).await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "committee_too_small").await?;
    // Not the owner: there is nothing to draw for.
    let res = request(&s.app, &s.bidder, &s.tender, 5).await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    let res = request(&s.app, &s.owner, &s.tender, 5).await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = request(&s.app, &s.owner, &s.tender, 5).await?;
    assert_problem(res, StatusCode::CONFLICT, "draw_exists").await?;
    Ok(())
}

#[tokio::test]
async fn art_49_a_draw_commits_invites_down_the_ranking_redraws_on_decline_and_silence_and_proves_itself()
-> TestResult {
    let s = scene().await?;
    let app = &s.app;
    app.clock.advance(TimeDelta::days(19) + TimeDelta::hours(1));
    let res = request(app, &s.owner, &s.tender, 5).await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await?;
    let draw = text(&created["draw_id"]);
    assert_eq!(created["status"], "awaiting_input");
    assert_eq!(text(&created["commitment"]).len(), 64);

    // The public input: a supervisor's contribution, once, before the window ends.
    let value = "ab".repeat(32);
    let path = format!("/api/v1/draws/{draw}/contributions");
    let res = app
        .post(&path, &json!({"value": value}), Some(&s.supervisor))
        .await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post(&path, &json!({"value": value}), Some(&s.supervisor))
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "already_answered").await?;
    let res = app
        .post(&path, &json!({"value": value}), Some(&s.bidder))
        .await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    app.clock.advance(TimeDelta::minutes(16));
    app.drain().await?;

    let view = supervisor_view(&s, &draw).await?;
    assert_eq!(view["status"], "inviting", "{view}");
    assert!(text(&view["public_input"]).starts_with("contributions:"));
    let invited = members(&view, "pending");
    assert_eq!(invited.len(), 5, "{view}");
    assert_eq!(view["eligible"], 10);
    // Art 9: the party's employee and the suspended expert were left out, with their reasons.
    let reasons: Vec<(String, u64)> = view["exclusions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| (text(&e["reason"]), e["count"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(
        reasons,
        [
            ("employer_conflict".to_owned(), 1),
            ("suspended".to_owned(), 1)
        ]
    );

    // The first accepts, after being shown the bidders and declaring no conflict.
    let first = &invited[0];
    let token = invitation_token(app, &format!("{first}@experts.test"))?.unwrap_or_default();
    let shown: Value = app
        .get(&format!("/api/v1/expert-invitations/{token}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(shown["bidders"], json!(["bidder 有限公司"]), "{shown}");
    let accept = format!("/api/v1/expert-invitations/{token}/accept");
    let res = app
        .post(&accept, &json!({"no_conflict": false}), None)
        .await?;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "conflict_not_declared",
    )
    .await?;
    let res = app
        .post(&accept, &json!({"no_conflict": true}), None)
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(&accept, &json!({"no_conflict": true}), None)
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "invitation_closed").await?;

    // The second declines: the next in the ranking is invited.
    let second = &invited[1];
    let token = invitation_token(app, &format!("{second}@experts.test"))?.unwrap_or_default();
    let res = app
        .post(
            &format!("/api/v1/expert-invitations/{token}/decline"),
            &json!({}),
            None,
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    app.drain().await?;
    let view = supervisor_view(&s, &draw).await?;
    assert_eq!(members(&view, "declined"), std::slice::from_ref(second));
    assert_eq!(members(&view, "pending").len(), 4, "{view}");

    // The others stay silent past the invitation's time: each seat passes on, down the ranking.
    app.clock.advance(TimeDelta::hours(25));
    app.drain().await?;
    let view = supervisor_view(&s, &draw).await?;
    assert!(members(&view, "timed_out").len() >= 3, "{view}");
    // Whoever is pending now accepts.
    for expert in members(&view, "pending") {
        let token = invitation_token(app, &format!("{expert}@experts.test"))?.unwrap_or_default();
        let res = app
            .post(
                &format!("/api/v1/expert-invitations/{token}/accept"),
                &json!({"no_conflict": true}),
                None,
            )
            .await?;
        assert_eq!(res.status(), StatusCode::OK);
    }
    app.drain().await?;
    let view = supervisor_view(&s, &draw).await?;
    // Ten eligible: 1 accepted, 1 declined, 4 timed out, 4 invited later and accepted = 5 of 5.
    assert_eq!(view["status"], "complete", "{view}");
    assert_eq!(view["seats_filled"], 5);

    // The proof: supervisors now, with the secret revealed; it recomputes offline.
    let res = app
        .get(&format!("/api/v1/draws/{draw}/proof"), None)
        .await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    let proof: Value = app
        .get(&format!("/api/v1/draws/{draw}/proof"), Some(&s.supervisor))
        .await?
        .json()
        .await?;
    assert_eq!(text(&proof["secret"]).len(), 64, "{proof}");
    let parsed: tenderhall_domain::draw::Proof = serde_json::from_value(proof.clone())?;
    assert_eq!(tenderhall_domain::draw::verify(&parsed), Ok(()));
    let excluded: Vec<String> = proof["excluded"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| text(&e["expert_id"]))
        .collect();
    assert_eq!(excluded, ["exp_party", "exp_suspended"]);
    assert!(
        !proof.to_string().contains("exp_other"),
        "not of the specialty"
    );
    let mut forged = parsed.clone();
    forged.accepted.swap(0, 1);
    assert!(tenderhall_domain::draw::verify(&forged).is_err());

    // Once the lot's result is final (evaluation publishes it), the proof is everyone's.
    tenderhall_domain::draw::service::finalize(app.state.db(), &s.tender, "1", app.state.now())
        .await?;
    let public: Value = app
        .get(&format!("/api/v1/draws/{draw}/proof"), None)
        .await?
        .json()
        .await?;
    assert_eq!(public, proof);
    let _ = &s.operator;
    Ok(())
}

#[tokio::test]
async fn art_37_the_owner_and_the_bidders_see_counts_and_nobody_else_learns_who_was_drawn()
-> TestResult {
    let s = scene().await?;
    let app = &s.app;
    let (stranger, _) = app.member("stranger@draw.test", "tenderer").await?;
    app.clock.advance(TimeDelta::days(19) + TimeDelta::hours(1));
    let created: Value = request(app, &s.owner, &s.tender, 5).await?.json().await?;
    let draw = text(&created["draw_id"]);
    app.clock.advance(TimeDelta::minutes(16));
    // No contribution: the first audit head signed after the commitment stands in.
    tenderhall_domain::audit::service::sign_head(
        app.state.db(),
        app.state.signer(),
        app.state.now() + TimeDelta::seconds(1),
    )
    .await?;
    app.clock.advance(TimeDelta::seconds(2));
    app.drain().await?;
    let view = supervisor_view(&s, &draw).await?;
    assert!(text(&view["public_input"]).starts_with("head:"), "{view}");
    let accepted = members(&view, "pending");
    let token =
        invitation_token(app, &format!("{}@experts.test", accepted[0]))?.unwrap_or_default();
    app.post(
        &format!("/api/v1/expert-invitations/{token}/accept"),
        &json!({"no_conflict": true}),
        None,
    )
    .await?;

    // Everything the owner and the bidder can read names no expert.
    let mut reads = Vec::new();
    for token in [&s.owner, &s.bidder] {
        for path in [
            format!("/api/v1/draws/{draw}"),
            format!("/api/v1/tenders/{}", s.tender),
            "/api/v1/tenders".to_owned(),
            "/api/v1/notifications".to_owned(),
            format!("/api/v1/draws/{draw}/proof"),
        ] {
            let res = app.get(&path, Some(token)).await?;
            reads.push((path, res.text().await?));
        }
    }
    reads.push((
        "/metrics".to_owned(),
        app.get("/metrics", None).await?.text().await?,
    ));
    for (path, body) in &reads {
        assert!(!body.contains("exp_"), "{path} names an expert: {body}");
        assert!(
            !body.contains("@experts.test"),
            "{path} names an expert: {body}"
        );
    }
    let owner_view: Value = app
        .get(&format!("/api/v1/draws/{draw}"), Some(&s.owner))
        .await?
        .json()
        .await?;
    assert_eq!(
        (
            owner_view["seats_filled"].clone(),
            owner_view["seats_total"].clone()
        ),
        (json!(1), json!(5))
    );
    assert!(owner_view.get("members").is_none());
    // Anyone else is told the draw does not exist, as for an id that was never a draw.
    let theirs = app
        .get(&format!("/api/v1/draws/{draw}"), Some(&stranger))
        .await?;
    let none = app
        .get("/api/v1/draws/drw_nothing", Some(&stranger))
        .await?;
    assert_eq!(theirs.status(), none.status());
    let (mut a, mut b): (Value, Value) = (theirs.json().await?, none.json().await?);
    a["request_id"] = Value::Null;
    b["request_id"] = Value::Null;
    assert_eq!(a, b);
    Ok(())
}
