//! Written clarifications during the evaluation (87号令 Art 51, 60; docs/spec/evaluation.md
//! "Clarifications"): a member asks a bidder through the platform with a deadline; the bidder
//! answers in writing before it. An abnormally low price left unexplained at the deadline makes
//! the bid invalid; until then the review cannot conclude; the report waits for every open
//! question and carries them all. Only the bidder asked sees its questions. A flagged mark is
//! corrected by its member before the report, the first mark kept beside it.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::evaluation::{room_tender, scene, seat_and_open, signed};
use super::{bidder, drain, opening_key, put_bid, sealed_bid};
use crate::helpers::{TestResult, assert_problem, text};

#[tokio::test]
async fn art_60_an_abnormally_low_price_left_unexplained_makes_the_bid_invalid() -> TestResult {
    let scene = scene("owner@clarify.test").await?;
    let (app, supervisor, owner) = (&scene.app, &scene.supervisor, &scene.owner);
    let tender = app.publish_tender(owner, &room_tender(app)).await?;
    let key = opening_key(app, &tender).await?;
    let mut bidders = Vec::new();
    for (email, price) in [
        ("a@clr.test", "90000.00"),
        ("b@clr.test", "95000.00"),
        ("c@clr.test", "99000.00"),
        ("d@clr.test", "41000.00"),
    ] {
        let b = bidder(app, email, &tender).await?;
        let res = put_bid(app, &b, &tender, sealed_bid(&b, &tender, &key, price)?).await?;
        assert_eq!(res.status(), StatusCode::CREATED);
        bidders.push(b);
    }
    let orgs: Vec<String> = bidders.iter().map(|b| b.org.clone()).collect();
    let (members, _) = seat_and_open(&scene, &tender, "cx").await?;

    let room = format!("/api/v1/tenders/{tender}/lots/1/evaluation");
    let ask = format!("{room}/clarifications");
    let mine = format!("/api/v1/tenders/{tender}/lots/1/clarifications");
    let in_a_day = (app.state.now() + TimeDelta::days(1)).to_rfc3339();
    let low = json!({"bidder_id": orgs[3], "question": "贵方报价明显低于其他投标人，请书面说明其合理性。",
                     "abnormally_low": true, "answer_by": in_a_day});
    // Only a seated member asks: to the owner and a bidder the room does not exist.
    for token in [owner, &bidders[0].token] {
        assert_problem(
            app.post(&ask, &low, Some(token)).await?,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await?;
    }
    // A deadline in the past, or a bidder not in the lot, is refused and nothing is kept.
    let past =
        json!({"bidder_id": orgs[3], "question": "?", "answer_by": app.state.now().to_rfc3339()});
    let res = app.post(&ask, &past, Some(&members[0].token)).await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    let stranger = json!({"bidder_id": "org_nobody", "question": "?", "answer_by": in_a_day});
    let res = app.post(&ask, &stranger, Some(&members[0].token)).await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;

    let res = app.post(&ask, &low, Some(&members[0].token)).await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let asked_d: Value = res.json().await?;
    let plain = json!({"bidder_id": orgs[0], "question": "请说明交货期。", "answer_by": in_a_day});
    let res = app.post(&ask, &plain, Some(&members[1].token)).await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let asked_a: Value = res.json().await?;

    // The bidder asked sees its question and is told; the others and the owner see none.
    let seen: Value = app
        .get(&mine, Some(&bidders[3].token))
        .await?
        .json()
        .await?;
    assert_eq!(seen["items"][0]["abnormally_low"], true, "{seen}");
    assert!(
        seen["items"][0]["expert_id"].is_null(),
        "the bidder does not learn who asked (the committee stays secret): {seen}"
    );
    let notes = app
        .get("/api/v1/notifications", Some(&bidders[3].token))
        .await?
        .text()
        .await?;
    assert!(notes.contains("clarification.asked"), "{notes}");
    for token in [&bidders[1].token, owner] {
        let seen: Value = app.get(&mine, Some(token)).await?.json().await?;
        assert_eq!(seen["items"], json!([]), "{seen}");
    }

    // A answers in writing; the member who asked is told; a second answer is refused.
    let answer_a = format!("{mine}/{}/answer", text(&asked_a["clarification_id"]));
    let body = json!({"answer": "合同签订后 30 日内交货。"});
    assert_problem(
        app.post(&answer_a, &body, Some(&bidders[1].token)).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let res = app.post(&answer_a, &body, Some(&bidders[0].token)).await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    let res = app.post(&answer_a, &body, Some(&bidders[0].token)).await?;
    assert_problem(res, StatusCode::CONFLICT, "already_answered").await?;
    let notes = app
        .get("/api/v1/notifications", Some(&members[1].token))
        .await?
        .text()
        .await?;
    assert!(notes.contains("clarification.answered"), "{notes}");

    // Everyone passes every bid, but D's price is not explained yet: the review cannot conclude.
    for m in &members {
        let verdicts: Vec<Value> = orgs
            .iter()
            .map(|o| json!({"bidder_id": o, "check": "licence", "pass": true, "reason": ""}))
            .collect();
        let sheet = json!({"phase": "review", "tender_id": tender, "lot_id": "1", "expert_id": m.id, "verdicts": verdicts});
        let res = app
            .post(
                &format!("{room}/review"),
                &signed(&m.key, &sheet),
                Some(&m.token),
            )
            .await?;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    }
    let view: Value = app.get(&room, Some(supervisor)).await?.json().await?;
    assert_eq!(view["phase"], "review", "{view}");
    assert!(view["compliance"].is_null());
    assert_eq!(view["clarifications_open"], 1);

    // The deadline passes unanswered: D's bid is invalid (Art 60), and D can no longer answer.
    app.clock
        .advance(TimeDelta::days(1) + TimeDelta::minutes(1));
    drain(app).await?;
    let answer_d = format!("{mine}/{}/answer", text(&asked_d["clarification_id"]));
    let res = app
        .post(
            &answer_d,
            &json!({"answer": "成本较低。"}),
            Some(&bidders[3].token),
        )
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "clarification_closed").await?;
    let view: Value = app
        .get(&room, Some(&members[2].token))
        .await?
        .json()
        .await?;
    assert_eq!(view["phase"], "scores", "{view}");
    let d = &view["compliance"][3];
    assert_eq!(d["bidder_id"], json!(orgs[3]));
    assert_eq!(d["valid"], false, "{d}");
    assert_eq!(d["unexplained_low_price"], true, "{d}");
    assert_eq!(view["clarifications"].as_array().map(Vec::len), Some(2));
    // A low price is raised during the review only.
    let res = app.post(&ask, &low, Some(&members[0].token)).await?;
    assert_problem(res, StatusCode::CONFLICT, "wrong_phase").await?;

    // A question asked while scoring holds the report back until it is answered or lapses.
    let later = json!({"bidder_id": orgs[0], "question": "请说明售后服务网点。",
                       "answer_by": (app.state.now() + TimeDelta::days(1)).to_rfc3339()});
    let res = app.post(&ask, &later, Some(&members[3].token)).await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    // Everyone gives 50, but the first member gives A 0: far from the others, flagged.
    for (i, m) in members.iter().enumerate() {
        let scores: Vec<Value> = orgs[..3]
            .iter()
            .map(|o| {
                let score = if i == 0 && *o == orgs[0] { "0" } else { "50" };
                json!({"bidder_id": o, "criterion": "plan", "score": score})
            })
            .collect();
        let sheet = json!({"phase": "scores", "tender_id": tender, "lot_id": "1", "expert_id": m.id, "scores": scores});
        let res = app
            .post(
                &format!("{room}/scores"),
                &signed(&m.key, &sheet),
                Some(&m.token),
            )
            .await?;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    }
    // The member corrects the flagged mark to 45 before the report (a signed, locked sheet).
    let view: Value = app
        .get(&room, Some(&members[0].token))
        .await?
        .json()
        .await?;
    assert_eq!(view["phase"], "flags", "{view}");
    let correction = json!({"phase": "flags", "tender_id": tender, "lot_id": "1", "expert_id": members[0].id,
        "scores": [{"bidder_id": orgs[0], "criterion": "plan", "score": "45"}]});
    let res = app
        .post(
            &format!("{room}/flags"),
            &signed(&members[0].key, &correction),
            Some(&members[0].token),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let report = format!("{room}/report");
    assert_problem(
        app.get(&report, Some(&members[0].token)).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    app.clock
        .advance(TimeDelta::days(1) + TimeDelta::minutes(1));
    drain(app).await?;
    let draft: Value = app
        .get(&report, Some(&members[0].token))
        .await?
        .json()
        .await?;
    let carried = &draft["report"]["clarifications"];
    assert_eq!(carried.as_array().map(Vec::len), Some(3), "{draft}");
    assert_eq!(carried[1]["answer"], "合同签订后 30 日内交货。");
    assert_eq!(carried[0]["lapsed"], true);
    let ranked: Vec<&Value> = draft["report"]["ranking"]["results"]
        .as_array()
        .map(|r| r.iter().map(|x| &x["bidder_id"]).collect())
        .unwrap_or_default();
    assert!(
        !ranked.contains(&&json!(orgs[3])),
        "D is not ranked: {ranked:?}"
    );
    // By hand (87号令 Art 55): base 90,000 (D is out). A: 30 + (4 × 50 + 45) / 5 = 30 + 49 = 79.
    let results = draft["report"]["ranking"]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let a = results.iter().find(|r| r["bidder_id"] == json!(orgs[0]));
    assert_eq!(
        a.map(|r| r["total"].clone()),
        Some(json!("79.00")),
        "{results:?}"
    );
    let flag = &draft["report"]["ranking"]["flags"][0];
    assert_eq!(flag["resolution"], "corrected", "{flag}");
    assert_eq!(flag["score"], "0");
    assert_eq!(flag["corrected_score"], "45");
    Ok(())
}
