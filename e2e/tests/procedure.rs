//! A whole procedure on the real binary (issue "Remote evaluation and award"; docs/spec/evaluation.md),
//! in an accelerated sandbox tender (÷ 100,000: 20 days run 17 seconds), with every mail through a
//! real SMTP server on loopback: published with comprehensive scoring → five bidders pay their
//! deposits and submit bids sealed and signed by `tenderhall seal` → the opening → a draw of five
//! experts, one declines and is replaced → the review and the scores, every sheet signed by
//! `tenderhall sign-json` → the report signed by all and the platform → the candidates published →
//! an objection answered → the award → the contract → the deposits refunded; `tenderhall audit
//! verify` and `tenderhall ledger check` pass at the end.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::json;
use tenderhall_e2e::api::{Api, cli_bid, credit_code, keygen, sign, text, token_in_mail};
use tenderhall_e2e::{Server, Site};
use tenderhall_workers::testing::{SmtpServer, decoded_mail};

#[tokio::test]
async fn a_whole_procedure_from_publication_to_refunds_with_real_mail() -> anyhow::Result<()> {
    let site = Site::new().await?;
    let Some(smtp) = SmtpServer::start_in(site.dir.path()).await? else {
        return Ok(());
    };
    let mut csv =
        "expert_id,name,email,specialty,region,employer_credit_code,title,years\n".to_owned();
    for i in 1..=8 {
        csv.push_str(&format!(
            "px_{i},专家{i},px_{i}@experts.test,A01,330100,{},高级工程师,10\n",
            credit_code(i)
        ));
    }
    let pool = site.dir.path().join("pool.csv");
    std::fs::write(&pool, csv)?;
    let (ok, out, err) = site
        .run(&["experts", "import", &pool.display().to_string()])
        .await?;
    assert!(ok, "{out}{err}");

    let mut cmd = site.command(&["serve", "--sandbox", "--listen", "127.0.0.1:0"])?;
    cmd.env("TENDERHALL_SMTP_URL", smtp.url())
        .env("TENDERHALL_INVITATION_HOURS", "100000")
        .env("TENDERHALL_AUDIT_HEAD_INTERVAL_SECONDS", "1");
    let server = Server::start(cmd).await?;
    let api = Api {
        server: &server,
        client: reqwest::Client::new(),
    };
    let (owner, _) = api.member("owner@proc.test", "tenderer").await?;
    let (supervisor, _) = api.member("sup@proc.test", "supervisor").await?;

    // Published with comprehensive scoring, 20 days ÷ 100,000 out.
    let deadline: DateTime<Utc> = Utc::now() + chrono::Duration::seconds(20);
    let (status, created) = api
        .post(
            "/api/v1/tenders",
            Some(&owner),
            &json!({
                "title": "全流程测试", "kind": "goods", "procedure": "open_tender",
                "award_method": "comprehensive_scoring", "accelerator": 100_000,
                "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
                "bid_deadline": deadline.to_rfc3339(),
                "evaluation": {
                    "method": "comprehensive_scoring",
                    "compliance": [{"id": "licence", "title": "营业执照有效"}],
                    "criteria": [
                        {"id": "price", "title": "价格", "weight": "30", "type": "price"},
                        {"id": "plan", "title": "技术方案", "weight": "70", "type": "subjective", "range": {"min": "0", "max": "70"}}
                    ],
                    "price": {"method": "gp_lowest_base", "sme_deduction": "10"}
                }
            }),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let tender = text(&created["id"]);
    let (status, published) = api
        .post(
            &format!("/api/v1/tenders/{tender}/publish"),
            Some(&owner),
            &json!({}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{published}");
    let opening_key = text(&published["lots"][0]["opening_key"]["public_key"]);

    // Five bidders register, pay their deposits and submit bids sealed on "their machines".
    let mut bidders = Vec::new();
    for i in 0..5 {
        let email = format!("b{i}@proc.test");
        let price = format!("{}000.00", 90 + 2 * i);
        let (token, org) = cli_bid(
            &site,
            &api,
            &tender,
            &opening_key,
            &email,
            &price,
            "2000.00",
        )
        .await?;
        bidders.push((email, token, org));
    }

    // The experts activate their accounts and register their keys.
    let mut experts = Vec::new();
    for i in 1..=8 {
        let email = format!("px_{i}@experts.test");
        let started = Instant::now();
        let token = loop {
            if let Some(token) = token_in_mail(&smtp, &email, "?token=")? {
                break token;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "no activation mail to {email}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let res = api
            .client
            .post(server.url(&format!("/api/v1/password-resets/{token}")))
            .json(&json!({"password": "expert-pass-2027"}))
            .send()
            .await?;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let session = api.sign_in(&email, "expert-pass-2027").await?;
        let (key, public) = keygen(&site, &format!("expert{i}")).await?;
        let res = api
            .client
            .put(server.url("/api/v1/experts/me/signing-key"))
            .bearer_auth(&session)
            .json(&json!({"public_key": public}))
            .send()
            .await?;
        assert_eq!(res.status(), StatusCode::OK);
        experts.push((format!("px_{i}"), email, session, key));
    }

    // The draw, once its window opens: five invited, one declines and is replaced.
    let started = Instant::now();
    let draw = loop {
        let (status, body) = api
            .post(
                &format!("/api/v1/tenders/{tender}/lots/1/draws"),
                Some(&owner),
                &json!({"seats": [{"specialty": "A01", "count": 5}], "reserves": 1}),
            )
            .await?;
        if status == StatusCode::CREATED {
            break text(&body["draw_id"]);
        }
        anyhow::ensure!(
            status == StatusCode::CONFLICT && started.elapsed() < Duration::from_secs(30),
            "draw: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let invited = |smtp: &SmtpServer| -> anyhow::Result<Vec<(String, String)>> {
        let mut found = Vec::new();
        for (_, email, _, _) in &experts {
            if let Some(token) = token_in_mail(smtp, email, "/expert-invitations/")? {
                found.push((email.clone(), token));
            }
        }
        Ok(found)
    };
    let started = Instant::now();
    while invited(&smtp)?.len() < 5 {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "invitations did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = invited(&smtp)?;
    let answer = |token: &str, verb: &str| {
        let url = server.url(&format!("/api/v1/expert-invitations/{token}/{verb}"));
        api.client
            .post(url)
            .json(&json!({"no_conflict": true}))
            .send()
    };
    assert_eq!(
        answer(&first[0].1, "decline").await?.status(),
        StatusCode::OK
    );
    for (_, token) in &first[1..] {
        assert_eq!(answer(token, "accept").await?.status(), StatusCode::OK);
    }
    let started = Instant::now();
    let replacement = loop {
        let now = invited(&smtp)?;
        if let Some(new) = now.iter().find(|(e, _)| !first.iter().any(|(f, _)| f == e)) {
            break new.clone();
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "no replacement invited"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        answer(&replacement.1, "accept").await?.status(),
        StatusCode::OK
    );
    let view = api
        .wait_for(
            &format!("/api/v1/draws/{draw}"),
            Some(&supervisor),
            10,
            |_, v| v["status"] == "complete",
        )
        .await?;
    let seated: Vec<String> = view["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["status"] == "accepted")
        .map(|m| text(&m["expert_id"]))
        .collect();
    assert_eq!(seated.len(), 5);
    let members: Vec<&(String, String, String, String)> =
        experts.iter().filter(|e| seated.contains(&e.0)).collect();

    // The opening at the deadline, by the chronograph.
    api.wait_for(
        &format!("/api/v1/tenders/{tender}/lots/1/opening"),
        None,
        40,
        |s, v| s == StatusCode::OK && v["status"] == "opened",
    )
    .await?;
    let room = format!("/api/v1/tenders/{tender}/lots/1/evaluation");
    let orgs: Vec<String> = bidders.iter().map(|b| b.2.clone()).collect();
    for (id, _, session, key) in &members {
        let sheet = json!({"phase": "review", "tender_id": tender, "lot_id": "1", "expert_id": id,
            "verdicts": orgs.iter().map(|o| json!({"bidder_id": o, "check": "licence", "pass": true, "reason": ""})).collect::<Vec<_>>()});
        let signature = sign(&site, key, &sheet).await?;
        let (status, body) = api
            .post(
                &format!("{room}/review"),
                Some(session),
                &json!({"sheet": sheet, "signature": signature}),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // A member asks bidder 1 a written question (87号令 Art 51); it answers in time. At this
    // tender's accelerator the longest deadline allowed is a few seconds.
    let (status, asked) = api
        .post(
            &format!("{room}/clarifications"),
            Some(&members[0].2),
            &json!({"bidder_id": orgs[1], "question": "请说明交货期。",
                    "answer_by": (Utc::now() + chrono::Duration::seconds(4)).to_rfc3339()}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    let (status, answered) = api
        .post(
            &format!(
                "/api/v1/tenders/{tender}/lots/1/clarifications/{}/answer",
                text(&asked["clarification_id"])
            ),
            Some(&bidders[1].1),
            &json!({"answer": "合同签订后 30 日内交货。"}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{answered}");
    for (id, _, session, key) in &members {
        let sheet = json!({"phase": "scores", "tender_id": tender, "lot_id": "1", "expert_id": id,
            "scores": orgs.iter().enumerate().map(|(i, o)| json!({"bidder_id": o, "criterion": "plan", "score": format!("{}", 60 - 2 * i)})).collect::<Vec<_>>()});
        let signature = sign(&site, key, &sheet).await?;
        let (status, body) = api
            .post(
                &format!("{room}/scores"),
                Some(session),
                &json!({"sheet": sheet, "signature": signature}),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // The report, signed by every member and then the platform.
    let (_, draft) = api
        .get(&format!("{room}/report"), Some(&members[0].2))
        .await?;
    let digest = text(&draft["report_sha256"]);
    for (id, _, session, key) in &members {
        let signature = sign(
            &site,
            key,
            &json!({"dissent": null, "expert_id": id, "report_sha256": digest}),
        )
        .await?;
        let (status, body) = api
            .post(
                &format!("{room}/report/signatures"),
                Some(session),
                &json!({"report_sha256": digest, "signature": signature}),
            )
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, report) = api.get(&format!("{room}/report"), Some(&owner)).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["status"], "signed");
    assert_eq!(
        report["record"]["report"]["clarifications"][0]["answer"], "合同签订后 30 日内交货。",
        "the report carries the clarification"
    );
    // Bidder 0 bid lowest and scored highest: first.
    let candidates = format!("/api/v1/tenders/{tender}/lots/1/candidates");
    let (_, list) = api.get(&candidates, None).await?;
    assert_eq!(
        list["record"]["candidates"][0]["bidder_id"],
        json!(orgs[0]),
        "{list}"
    );
    // An objection during the publicity, answered.
    let (status, objection) = api
        .post(
            &format!("{candidates}/objections"),
            Some(&bidders[4].1),
            &json!({"body": "请复核第一名的报价。"}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{objection}");
    let (status, body) = api
        .post(
            &format!(
                "{candidates}/objections/{}/answer",
                text(&objection["objection_id"])
            ),
            Some(&owner),
            &json!({"answer": "经复核，报价无误。"}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    api.wait_for(&candidates, None, 20, |_, v| v["status"] == "ended")
        .await?;
    // The award and the contract.
    let award = format!("/api/v1/tenders/{tender}/lots/1/award");
    let (status, notice) = api
        .post(&award, Some(&owner), &json!({"bidder_id": orgs[0]}))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{notice}");
    let (status, contract) = api
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/contract"),
            Some(&owner),
            &json!({"contract_price": "90000.00", "performance_bond": "9000.00"}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{contract}");
    // Every deposit goes back, through the sandbox bank.
    api.wait_for(
        &format!("/api/v1/tenders/{tender}/lots/1/deposits"),
        Some(&owner),
        60,
        |_, v| {
            v["items"].as_array().is_some_and(|items| {
                items.len() == 5
                    && items.iter().all(|i| {
                        i["refunded"]["amount"]
                            .as_str()
                            .is_some_and(|a| a.parse::<f64>().unwrap_or(0.0) >= 2000.0)
                    })
            })
        },
    )
    .await?;
    // The mail went through the SMTP server: the report, the objection's answer, the clarification,
    // the award notice and the result.
    let expected = [
        ("owner@proc.test", "/evaluation/report"),
        (bidders[4].0.as_str(), "/candidates"),
        (bidders[1].0.as_str(), "评标委员会要求您澄清"),
        (bidders[0].0.as_str(), "中标通知书"),
        (bidders[1].0.as_str(), "中标结果"),
    ];
    let started = Instant::now();
    loop {
        let mail: Vec<String> = smtp.messages()?.iter().map(|m| decoded_mail(m)).collect();
        let missing: Vec<_> = expected
            .iter()
            .filter(|(who, what)| {
                !mail
                    .iter()
                    .any(|m| m.contains(&format!("To: {who}")) && m.contains(what))
            })
            .collect();
        if missing.is_empty() {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "mail missing: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await?;

    let (ok, out, err) = site.run(&["audit", "verify"]).await?;
    assert!(ok, "audit verify: {out}{err}");
    let (ok, out, err) = site.run(&["ledger", "check"]).await?;
    assert!(ok, "ledger check: {out}{err}");
    Ok(())
}
