//! A lot that fails at the review (招标投标法 Art 42; 实施条例 Art 44; 87号令 Art 36;
//! docs/spec/evaluation.md "A lot that fails"): when the review leaves fewer valid bids than the
//! lot needs, the last review fails it in the same transaction, with its reason, the deposits
//! booked for refund, and everyone told; the owner tenders it again as a copy.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::evaluation::{
    Member, Scene, accept_all, pool, request_draw, room_tender, scene, seated, signed,
};
use super::{bidder, drain, opening_key, put_bid, sealed_bid};
use crate::helpers::{TestResult, assert_problem, text};

#[tokio::test]
async fn a_review_that_leaves_two_valid_bids_fails_the_lot_and_the_owner_tenders_it_again()
-> TestResult {
    let Scene {
        app,
        operator,
        supervisor,
        owner,
    } = scene("owner@fail-review.test").await?;
    let (stranger, _) = app.member("other@fail-review.test", "tenderer").await?;
    let tender = app.publish_tender(&owner, &room_tender(&app)).await?;
    // A tender still running cannot be copied.
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/copy"),
            &json!({}),
            Some(&owner),
        )
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "nothing_to_retender").await?;
    let key = opening_key(&app, &tender).await?;
    let mut orgs = Vec::new();
    for (email, price) in [
        ("a@fr.test", "90000.00"),
        ("b@fr.test", "95000.00"),
        ("c@fr.test", "99000.00"),
    ] {
        let b = bidder(&app, email, &tender).await?;
        let res = put_bid(&app, &b, &tender, sealed_bid(&b, &tender, &key, price)?).await?;
        assert_eq!(res.status(), StatusCode::CREATED);
        orgs.push(b.org.clone());
    }
    let experts = pool(&app, &operator, "fx", 6).await?;
    app.clock.advance(TimeDelta::days(19) + TimeDelta::hours(1));
    let draw = request_draw(&app, &owner, &supervisor, &tender).await?;
    app.clock.advance(TimeDelta::minutes(16));
    app.drain().await?;
    accept_all(&app, &experts).await?;
    let members_ids = seated(&app, &supervisor, &draw).await?;
    let members: Vec<&Member> = experts
        .iter()
        .filter(|m| members_ids.contains(&m.id))
        .collect();
    app.clock.advance(TimeDelta::days(2));
    drain(&app).await?;

    // Every member finds C's licence expired: two valid bids remain, fewer than three.
    let path = format!("/api/v1/tenders/{tender}/lots/1/evaluation");
    let mut last: Value = Value::Null;
    for m in &members {
        let verdicts: Vec<Value> = orgs
            .iter()
            .map(|o| {
                let fail = *o == orgs[2];
                json!({"bidder_id": o, "check": "licence", "pass": !fail, "reason": if fail { "营业执照已过期" } else { "" }})
            })
            .collect();
        let sheet = json!({"phase": "review", "tender_id": tender, "lot_id": "1", "expert_id": m.id, "verdicts": verdicts});
        let res = app
            .post(
                &format!("{path}/review"),
                &signed(&m.key, &sheet),
                Some(&m.token),
            )
            .await?;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
        last = res.json().await?;
    }
    assert_eq!(
        last["lot_failed"], true,
        "the last review fails the lot: {last}"
    );
    let view: Value = app.get(&path, Some(&supervisor)).await?.json().await?;
    assert_eq!(view["phase"], "failed");
    let public: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(public["lots"][0]["status"], "failed");
    let notes = app
        .get("/api/v1/notifications", Some(&owner))
        .await?
        .text()
        .await?;
    assert!(notes.contains("lot.failed"), "{notes}");
    // No scores are taken on a failed lot.
    let m = members[0];
    let sheet = json!({"phase": "scores", "tender_id": tender, "lot_id": "1", "expert_id": m.id, "scores": []});
    let res = app
        .post(
            &format!("{path}/scores"),
            &signed(&m.key, &sheet),
            Some(&m.token),
        )
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "wrong_phase").await?;
    app.assert_ledger_sound().await?;

    // Tendering again: a copy for the owner only, with the same set-up, as a draft.
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/copy"),
            &json!({}),
            Some(&stranger),
        )
        .await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/copy"),
            &json!({}),
            Some(&owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let copy: Value = res.json().await?;
    assert_ne!(copy["id"], json!(tender));
    assert_eq!(copy["status"], "draft");
    assert_eq!(copy["evaluation"], public["evaluation"]);
    assert_eq!(copy["lots"][0]["id"], "1");
    assert_eq!(text(&copy["title"]), text(&public["title"]));
    Ok(())
}
