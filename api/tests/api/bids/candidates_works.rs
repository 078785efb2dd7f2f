//! The candidates' publicity under the tendering law (实施条例 Art 54; docs/spec/evaluation.md
//! "Candidates and objections"): a construction tender's candidates are published with the signed
//! report for 3 days, without the committee's names; objections come during those 3 days only and
//! are answered within 3 days; a complaint follows the answer (实施条例 Art 60).

use base64::Engine as _;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::evaluation::{scene, seat_and_open};
use super::{bidder, drain, opening_key, put_bid, sealed_bid};
use crate::helpers::{TestResult, assert_problem, text};

#[tokio::test]
async fn art_54_works_candidates_are_public_for_three_days_and_objections_come_within_them()
-> TestResult {
    let scene = scene("owner@works-publicity.test").await?;
    let (app, owner) = (&scene.app, &scene.owner);
    let tender = app
        .publish_tender(
            owner,
            &json!({
                "title": "道路维修工程", "kind": "construction", "procedure": "open_tender",
                "award_method": "lowest_evaluated_price",
                "lots": [{"id": "1", "title": "一标段", "budget": "100000", "deposit": "2000"}],
                "bid_deadline": (app.state.now() + TimeDelta::days(21)).to_rfc3339(),
            }),
        )
        .await?;
    let key = opening_key(app, &tender).await?;
    let mut bidders = Vec::new();
    for (email, price) in [
        ("a@works-pub.test", "90000.00"),
        ("b@works-pub.test", "95000.00"),
        ("c@works-pub.test", "99000.00"),
    ] {
        let b = bidder(app, email, &tender).await?;
        let res = put_bid(app, &b, &tender, sealed_bid(&b, &tender, &key, price)?).await?;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
        bidders.push(b);
    }
    let (members, _) = seat_and_open(&scene, &tender, "wx").await?;

    // No checks and no subjective criteria: the report is ready; every member signs it.
    let report = format!("/api/v1/tenders/{tender}/lots/1/evaluation/report");
    let draft: Value = app
        .get(&report, Some(&members[0].token))
        .await?
        .json()
        .await?;
    let digest = text(&draft["report_sha256"]);
    for m in &members {
        let message = tenderhall_domain::canonical::to_canonical_string(
            &json!({"dissent": null, "expert_id": m.id, "report_sha256": digest}),
        );
        let signature =
            base64::engine::general_purpose::STANDARD.encode(m.key.sign(message.as_bytes()));
        let res = app
            .post(
                &format!("{report}/signatures"),
                &json!({"report_sha256": digest, "signature": signature}),
                Some(&m.token),
            )
            .await?;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    }

    let path = format!("/api/v1/tenders/{tender}/lots/1/candidates");
    let public: Value = app.get(&path, None).await?.json().await?;
    let record = &public["record"];
    assert_eq!(record["notice"], "candidates", "{record}");
    assert!(
        record["committee"].is_null(),
        "the tendering law keeps the committee secret until the result is final (实施条例 Art 46)"
    );
    let at = |field: &str| -> anyhow::Result<DateTime<Utc>> { Ok(text(&record[field]).parse()?) };
    let (published, ends) = (at("published_at")?, at("publicity_ends_at")?);
    assert_eq!(ends - published, TimeDelta::days(3), "Art 54: 3 days");
    assert_eq!(
        at("objections_close_at")?,
        ends,
        "objections during the publicity only"
    );

    // An objection within the period is answered within 3 days.
    let objections = format!("{path}/objections");
    let res = app
        .post(
            &objections,
            &json!({"body": "第一名的项目经理资格存疑。"}),
            Some(&bidders[1].token),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let raised: Value = res.json().await?;
    let due: DateTime<Utc> = text(&raised["answer_due"]).parse()?;
    assert_eq!(
        due - app.state.now(),
        TimeDelta::days(3),
        "Art 54: answered within 3 days"
    );
    let res = app
        .post(
            &format!("{objections}/{}/answer", text(&raised["objection_id"])),
            &json!({"answer": "经核实，项目经理资格有效。"}),
            Some(owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);

    // After the 3 days nobody objects any more, and the objector may complain within 10 days.
    app.clock
        .advance(TimeDelta::days(3) + TimeDelta::minutes(1));
    drain(app).await?;
    let res = app
        .post(
            &objections,
            &json!({"body": "迟到的异议。"}),
            Some(&bidders[2].token),
        )
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "publicity_closed").await?;
    assert_eq!(
        app.get(&path, None).await?.json::<Value>().await?["status"],
        "ended"
    );
    app.clock.advance(TimeDelta::days(10));
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/complaints"),
            &json!({"objection_id": raised["objection_id"], "body": "对答复不服。"}),
            Some(&bidders[1].token),
        )
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "deadline_passed").await?;
    Ok(())
}
