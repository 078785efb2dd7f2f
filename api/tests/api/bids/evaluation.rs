//! The evaluation room through the API (docs/spec/evaluation.md "The evaluation room"): five
//! drawn experts review the opened bids against the published checks (decided by majority, the
//! dissent kept; 评标委员会和评标方法暂行规定 Art 43), then score the valid ones within the
//! published ranges; every sheet signed with the expert's own Ed25519 key, verified, and locked;
//! no member reads another's sheet before submitting its own; the tenderer and the bidders learn
//! nothing of it (招标投标法 Art 37, 44); the ranking follows the published formula (87号令
//! Art 55) with at most three candidates (实施条例 Art 53).

use base64::Engine as _;
use chrono::TimeDelta;
use reqwest::StatusCode;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::{Value, json};

use super::{bidder, drain, opening_key, put_bid, sealed_bid};
use crate::experts::{activate, credit_code, import, row};
use crate::helpers::{TestApp, TestResult, assert_problem, text};

fn keypair() -> anyhow::Result<Ed25519KeyPair> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| anyhow::anyhow!("keygen"))?;
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| anyhow::anyhow!("key"))
}

pub(super) fn signed(key: &Ed25519KeyPair, sheet: &Value) -> Value {
    let message = tenderhall_domain::canonical::to_canonical_string(sheet);
    let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(message.as_bytes()));
    json!({"sheet": sheet, "signature": signature})
}

pub(super) struct Member {
    pub id: String,
    pub token: String,
    pub key: Ed25519KeyPair,
}

/// A sandbox whose sessions outlive the weeks the tests move the clock by, with an operator, a
/// supervisor and a tenderer (`owner`).
pub(super) struct Scene {
    pub app: TestApp,
    pub operator: String,
    pub supervisor: String,
    pub owner: String,
}

pub(super) async fn scene(owner_email: &str) -> anyhow::Result<Scene> {
    let app = TestApp::spawn_with(|s| {
        s.sandbox = true;
        s.session_ttl_minutes = 60 * 24 * 60;
    })
    .await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (owner, _) = app.member(owner_email, "tenderer").await?;
    Ok(Scene {
        app,
        operator,
        supervisor,
        owner,
    })
}

/// A goods tender 21 days out, scored on price (30) and a subjective plan (70), with one check.
pub(super) fn room_tender(app: &TestApp) -> Value {
    json!({
        "title": "实验室设备采购", "kind": "goods", "procedure": "open_tender",
        "award_method": "comprehensive_scoring",
        "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
        "bid_deadline": (app.state.now() + TimeDelta::days(21)).to_rfc3339(),
        "evaluation": {
            "method": "comprehensive_scoring",
            "compliance": [{"id": "licence", "title": "营业执照有效"}],
            "criteria": [
                {"id": "price", "title": "价格", "weight": "30", "type": "price"},
                {"id": "plan", "title": "技术方案", "weight": "70", "type": "subjective",
                 "range": {"min": "0", "max": "70"}}
            ],
            "price": {"method": "gp_lowest_base"}
        }
    })
}

/// `n` experts of A01 (`{prefix}_1`…), imported, activated, each with its own signing key.
pub(super) async fn pool(
    app: &TestApp,
    operator: &str,
    prefix: &str,
    n: u32,
) -> anyhow::Result<Vec<Member>> {
    let rows: Vec<String> = (1..=n)
        .map(|i| row(&format!("{prefix}_{i}"), "A01", &credit_code(100 + i)))
        .collect();
    import(app, operator, &rows).await?;
    app.drain().await?;
    let mut experts = Vec::new();
    for i in 1..=n {
        let id = format!("{prefix}_{i}");
        let token = activate(app, &format!("{id}@experts.test")).await?;
        let key = keypair()?;
        let res = app
            .request(reqwest::Method::PUT, "/api/v1/experts/me/signing-key", Some(&token))
            .json(&json!({"public_key": base64::engine::general_purpose::STANDARD.encode(key.public_key().as_ref())}))
            .send()
            .await?;
        anyhow::ensure!(res.status() == StatusCode::OK, "signing key of {id}");
        experts.push(Member { id, token, key });
    }
    Ok(experts)
}

/// The owner requests a draw of five for lot 1 and a supervisor contributes; returns its id.
pub(super) async fn request_draw(
    app: &TestApp,
    owner: &str,
    supervisor: &str,
    tender: &str,
) -> anyhow::Result<String> {
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/draws"),
            &json!({"seats": [{"specialty": "A01", "count": 5}], "reserves": 1}),
            Some(owner),
        )
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::CREATED,
        "draw: {}",
        res.text().await?
    );
    let draw = text(&res.json::<Value>().await?["draw_id"]);
    let res = app
        .post(
            &format!("/api/v1/draws/{draw}/contributions"),
            &json!({"value": "cd".repeat(32)}),
            Some(supervisor),
        )
        .await?;
    anyhow::ensure!(res.status() == StatusCode::NO_CONTENT, "contribution");
    Ok(draw)
}

/// From a tender 21 days out with its bids in: six experts of the pool (`{prefix}_1`…), five drawn
/// two days before the deadline and seated, then the lot opened. Returns the seated members and
/// the draw's id.
pub(super) async fn seat_and_open(
    scene: &Scene,
    tender: &str,
    prefix: &str,
) -> anyhow::Result<(Vec<Member>, String)> {
    let app = &scene.app;
    let experts = pool(app, &scene.operator, prefix, 6).await?;
    app.clock.advance(TimeDelta::days(19) + TimeDelta::hours(1));
    let draw = request_draw(app, &scene.owner, &scene.supervisor, tender).await?;
    app.clock.advance(TimeDelta::minutes(16));
    app.drain().await?;
    accept_all(app, &experts).await?;
    let ids = seated(app, &scene.supervisor, &draw).await?;
    app.clock.advance(TimeDelta::days(2));
    drain(app).await?;
    let members = experts
        .into_iter()
        .filter(|m| ids.contains(&m.id))
        .collect();
    Ok((members, draw))
}

/// Every invitation mailed to the experts is accepted, declaring no conflict.
pub(super) async fn accept_all(app: &TestApp, experts: &[Member]) -> anyhow::Result<()> {
    let marker = "/expert-invitations/";
    for m in experts {
        let to = format!("To: {}@experts.test", m.id);
        for mail in app
            .outbox()?
            .into_iter()
            .filter(|x| x.contains(&to) && x.contains(marker))
        {
            let start = mail.find(marker).unwrap_or(0) + marker.len();
            let token: String = mail[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            app.post(
                &format!("/api/v1/expert-invitations/{token}/accept"),
                &json!({"no_conflict": true}),
                None,
            )
            .await?;
        }
    }
    Ok(())
}

/// The experts seated by `draw`, as a supervisor reads it.
pub(super) async fn seated(
    app: &TestApp,
    supervisor: &str,
    draw: &str,
) -> anyhow::Result<Vec<String>> {
    let view: Value = app
        .get(&format!("/api/v1/draws/{draw}"), Some(supervisor))
        .await?
        .json()
        .await?;
    Ok(view["members"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["status"] == "accepted")
        .map(|m| text(&m["expert_id"]))
        .collect())
}

#[tokio::test]
async fn a_committee_reviews_and_scores_with_signed_locked_sheets_and_nobody_else_sees_it()
-> TestResult {
    let Scene {
        app,
        operator,
        supervisor,
        owner,
    } = scene("owner@room.test").await?;
    let tender = app.publish_tender(&owner, &room_tender(&app)).await?;
    let key = opening_key(&app, &tender).await?;
    let mut bidders = Vec::new();
    for (email, price) in [
        ("a@room.test", "90000.00"),
        ("b@room.test", "100000.00"),
        ("c@room.test", "120000.00"),
    ] {
        let b = bidder(&app, email, &tender).await?;
        let res = put_bid(&app, &b, &tender, sealed_bid(&b, &tender, &key, price)?).await?;
        assert_eq!(res.status(), StatusCode::CREATED);
        bidders.push(b);
    }
    let orgs: Vec<String> = bidders.iter().map(|b| b.org.clone()).collect();

    // Five of six experts drawn and seated; the lot opens two days later.
    let experts = pool(&app, &operator, "rx", 6).await?;
    app.clock.advance(TimeDelta::days(19) + TimeDelta::hours(1));
    let draw = request_draw(&app, &owner, &supervisor, &tender).await?;
    app.clock.advance(TimeDelta::minutes(16));
    app.drain().await?;
    accept_all(&app, &experts).await?;
    let seated = seated(&app, &supervisor, &draw).await?;
    assert_eq!(seated.len(), 5, "{seated:?}");
    app.clock.advance(TimeDelta::days(2));
    drain(&app).await?;
    let public: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(
        public["lots"][0]["status"], "evaluating",
        "opened with its committee seated, the lot is being evaluated (API lot status)"
    );

    let path = format!("/api/v1/tenders/{tender}/lots/1/evaluation");
    let (members, outsiders): (Vec<Member>, Vec<Member>) =
        experts.into_iter().partition(|m| seated.contains(&m.id));
    // The tenderer, a bidder and the expert not seated learn nothing: the room does not exist for them.
    for token in [&owner, &bidders[0].token, &outsiders[0].token] {
        assert_problem(
            app.get(&path, Some(token)).await?,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await?;
    }
    let view: Value = app.get(&path, Some(&supervisor)).await?.json().await?;
    assert_eq!(view["phase"], "review", "{view}");
    assert_eq!(view["committee_size"], 5);

    let review = |m: &Member, fail_c: bool| {
        json!({
            "phase": "review", "tender_id": tender, "lot_id": "1", "expert_id": m.id,
            "verdicts": orgs.iter().map(|o| {
                let fail = fail_c && *o == orgs[2];
                json!({"bidder_id": o, "check": "licence", "pass": !fail,
                       "reason": if fail { "营业执照已过期" } else { "" }})
            }).collect::<Vec<_>>(),
        })
    };
    let post = |path: String, token: String, body: Value| {
        let app = &app;
        async move { app.post(&path, &body, Some(&token)).await }
    };
    let review_path = format!("{path}/review");
    let scores_path = format!("{path}/scores");

    // A sheet that does not verify is refused and nothing is kept.
    let mut forged = signed(&members[0].key, &review(&members[0], false));
    forged["sheet"]["verdicts"][0]["pass"] = json!(true);
    forged["sheet"]["verdicts"][2]["pass"] = json!(false);
    forged["sheet"]["verdicts"][2]["reason"] = json!("changed after signing");
    let res = post(review_path.clone(), members[0].token.clone(), forged).await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "bad_signature").await?;
    // Scores are not taken while the review runs.
    let res = post(scores_path.clone(), members[0].token.clone(), signed(&members[0].key, &json!({
        "phase": "scores", "tender_id": tender, "lot_id": "1", "expert_id": members[0].id, "scores": []})))
    .await?;
    assert_problem(res, StatusCode::CONFLICT, "wrong_phase").await?;

    for (i, m) in members.iter().enumerate() {
        let res = post(
            review_path.clone(),
            m.token.clone(),
            signed(&m.key, &review(m, i == 4)),
        )
        .await?;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
        if i == 0 {
            // Locked once submitted.
            let res = post(
                review_path.clone(),
                m.token.clone(),
                signed(&m.key, &review(m, true)),
            )
            .await?;
            assert_problem(res, StatusCode::CONFLICT, "sheet_locked").await?;
        }
    }
    let view: Value = app
        .get(&path, Some(&members[0].token))
        .await?
        .json()
        .await?;
    assert_eq!(view["phase"], "scores", "{view}");
    let c = &view["compliance"][2];
    assert_eq!(c["valid"], true, "a majority passed it: {c}");
    assert_eq!(
        c["checks"][0]["failed_by"],
        json!([members[4].id]),
        "the dissent is kept"
    );

    // Scores: A 40, B 60, C 50 from everyone but the last, who gives B 5 (far from the others).
    let scores = |m: &Member, b_score: &str| {
        json!({
            "phase": "scores", "tender_id": tender, "lot_id": "1", "expert_id": m.id,
            "scores": [
                {"bidder_id": orgs[0], "criterion": "plan", "score": "40"},
                {"bidder_id": orgs[1], "criterion": "plan", "score": b_score},
                {"bidder_id": orgs[2], "criterion": "plan", "score": "50"}
            ],
        })
    };
    let res = post(
        scores_path.clone(),
        members[0].token.clone(),
        signed(&members[0].key, &scores(&members[0], "60")),
    )
    .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    // Out of range is refused naming the field.
    let mut high = scores(&members[1], "60");
    high["scores"][0]["score"] = json!("70.5");
    let res = post(
        scores_path.clone(),
        members[1].token.clone(),
        signed(&members[1].key, &high),
    )
    .await?;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert_eq!(problem["field"], "sheet.scores[0].score");
    // Before submitting, the second member sees only its own (no) score sheet, not the first's.
    let view: Value = app
        .get(&path, Some(&members[1].token))
        .await?
        .json()
        .await?;
    let visible: Vec<(String, String)> = view["sheets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| (text(&s["expert_id"]), text(&s["phase"])))
        .collect();
    assert!(
        visible
            .iter()
            .all(|(e, p)| p == "review" || *e == members[1].id),
        "{visible:?}"
    );
    assert!(view["ranking"].is_null());
    for (i, m) in members.iter().enumerate().skip(1) {
        let b = if i == 4 { "5" } else { "60" };
        let res = post(
            scores_path.clone(),
            m.token.clone(),
            signed(&m.key, &scores(m, b)),
        )
        .await?;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    }
    // The last member's 5 for B is far from the others' 60: it waits for that member to confirm or
    // correct it; nobody else may, and nothing else may be re-marked.
    let view: Value = app.get(&path, Some(&supervisor)).await?.json().await?;
    assert_eq!(view["phase"], "flags", "{view}");
    assert_eq!(view["flags"][0]["expert_id"], members[4].id, "{view}");
    assert!(view["ranking"].is_null());
    let flags_path = format!("{path}/flags");
    let confirm = |m: &Member, bidder: &str| {
        json!({"phase": "flags", "tender_id": tender, "lot_id": "1", "expert_id": m.id,
               "scores": [{"bidder_id": bidder, "criterion": "plan", "score": "5"}]})
    };
    let res = post(
        flags_path.clone(),
        members[0].token.clone(),
        signed(&members[0].key, &confirm(&members[0], &orgs[1])),
    )
    .await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    let res = post(
        flags_path.clone(),
        members[4].token.clone(),
        signed(&members[4].key, &confirm(&members[4], &orgs[0])),
    )
    .await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    let res = post(
        flags_path.clone(),
        members[4].token.clone(),
        signed(&members[4].key, &confirm(&members[4], &orgs[1])),
    )
    .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let res = post(
        flags_path.clone(),
        members[4].token.clone(),
        signed(&members[4].key, &confirm(&members[4], &orgs[1])),
    )
    .await?;
    assert_problem(res, StatusCode::CONFLICT, "sheet_locked").await?;
    let view: Value = app.get(&path, Some(&supervisor)).await?.json().await?;
    assert_eq!(view["phase"], "scored", "{view}");
    let ranking = &view["ranking"];
    // By hand (87号令 Art 55): base 90,000. A: 30 + 40 = 70. B: 27 + (4×60 + 5)/5 = 27 + 49 = 76.
    // C: 22.5 + 50 = 72.5. Ranked B, C, A.
    let order: Vec<String> = ranking["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| text(&r["bidder_id"]))
        .collect();
    assert_eq!(order, [orgs[1].clone(), orgs[2].clone(), orgs[0].clone()]);
    assert_eq!(ranking["results"][0]["total"], "76.00");
    assert_eq!(ranking["results"][1]["total"], "72.50");
    assert_eq!(ranking["candidates"].as_array().map(Vec::len), Some(3));
    assert_eq!(ranking["flags"][0]["expert_id"], members[4].id, "{ranking}");
    assert_eq!(ranking["flags"][0]["resolution"], "confirmed", "{ranking}");
    // Every sheet carries what was signed and verifies under the key kept with it.
    for s in view["sheets"].as_array().cloned().unwrap_or_default() {
        let public = base64::engine::general_purpose::STANDARD.decode(text(&s["public_key"]))?;
        let message = tenderhall_domain::canonical::to_canonical_string(&s["sheet"]);
        assert!(tenderhall_domain::keys::verify_ed25519(
            &public,
            message.as_bytes(),
            &text(&s["signature"])
        ));
    }
    // A member reads the decrypted bids it evaluates.
    let res = app
        .get(
            &format!("/api/v1/tenders/{tender}/lots/1/bids/{}/archive", orgs[0]),
            Some(&members[0].token),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    // Still nothing for the tenderer and the bidders before the report.
    for token in [&owner, &bidders[1].token] {
        assert_problem(
            app.get(&path, Some(token)).await?,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await?;
    }
    // The members sign the report, one with a dissent; then the owner reads it.
    super::evaluation_report::sign_and_check(&app, &path, &members, &owner, &bidders[1].token)
        .await?;
    // The printable report a supervisor files (电子招标投标办法 Art 40): Chinese, or English.
    let html = app
        .get(&format!("{path}/report.html"), Some(&owner))
        .await?
        .text()
        .await?;
    assert!(
        html.contains("评标报告") && html.contains("偏离较大的评分"),
        "{html}"
    );
    assert!(html.contains("<td>确认</td>"), "the confirmed flag: {html}");
    let html = app
        .get(&format!("{path}/report.html?lang=en"), Some(&owner))
        .await?
        .text()
        .await?;
    assert!(
        html.contains("Evaluation report") && html.contains("<td>confirmed</td>"),
        "{html}"
    );
    // The result goes public with the report; challenges suspend the procedure (政府采购法 Art 52–53).
    let bidder_tokens: Vec<&str> = bidders.iter().map(|b| b.token.as_str()).collect();
    super::candidates::publicity_and_objections(
        &app,
        &tender,
        &owner,
        &bidder_tokens,
        &outsiders[0].token,
        &supervisor,
    )
    .await?;
    super::candidates::award_and_contract(&app, &tender, &draw, &owner, &bidder_tokens).await?;
    Ok(())
}
