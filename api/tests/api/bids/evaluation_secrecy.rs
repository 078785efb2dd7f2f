//! "Who sees what" for the evaluation, tested by difference (docs/spec/visibility.md; 招标投标法
//! Art 37, 44): two tenders published alike, bid on alike by the same three bidders, opened
//! together, each with a seated committee. On one, the committee asks the second bidder a
//! question, which it answers, and reviews and scores everything;
//! on the other, nothing. Until the report, every read answer of the tenderer, a bidder, an expert
//! of the pool who sits on neither committee, and the public is the same for both.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::evaluation::{
    Member, Scene, accept_all, pool, request_draw, room_tender, scene, seated, signed,
};
use super::{bidder, drain, normalized, opening_key, put_bid, sealed_bid, seen};
use crate::experts::{activate, credit_code, import, row};
use crate::helpers::TestResult;

/// What differs between two tenders whatever happens to them: envelopes, signatures, draws.
fn stripped(value: Value, id: &str, as_id: &str, draw: &str, as_draw: &str) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in [
                    "envelope_sha256",
                    "signature",
                    "draw_id",
                    "commitment",
                    "public_input",
                    "registration_id",
                    "account_no",
                    "pool_hash",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut value = normalized(value, id, as_id);
    walk(&mut value);
    serde_json::from_str(&value.to_string().replace(draw, as_draw)).unwrap_or(Value::Null)
}

#[tokio::test]
async fn until_the_report_nobody_outside_the_committee_can_tell_an_evaluated_lot_from_an_idle_one()
-> TestResult {
    let Scene {
        app,
        operator,
        supervisor,
        owner,
    } = scene("owner@secret-room.test").await?;
    let busy = app.publish_tender(&owner, &room_tender(&app)).await?;
    let quiet = app.publish_tender(&owner, &room_tender(&app)).await?;
    let (busy_key, quiet_key) = (
        opening_key(&app, &busy).await?,
        opening_key(&app, &quiet).await?,
    );
    let mut bidders = Vec::new();
    for (email, price) in [
        ("a@sr.test", "90000.00"),
        ("b@sr.test", "100000.00"),
        ("c@sr.test", "120000.00"),
    ] {
        let b = bidder(&app, email, &busy).await?;
        let res = app
            .post(
                &format!("/api/v1/tenders/{quiet}/lots/1/registrations"),
                &json!({}),
                Some(&b.token),
            )
            .await?;
        assert_eq!(res.status(), StatusCode::CREATED);
        for (tender, key) in [(&busy, &busy_key), (&quiet, &quiet_key)] {
            let res = put_bid(&app, &b, tender, sealed_bid(&b, tender, key, price)?).await?;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        bidders.push(b);
    }
    let orgs: Vec<String> = bidders.iter().map(|b| b.org.clone()).collect();
    let experts = pool(&app, &operator, "sx", 8).await?;
    // An expert of the pool in another specialty: never drawn.
    import(
        &app,
        &operator,
        &[row("sx_other", "B07", &credit_code(199))],
    )
    .await?;
    app.drain().await?;
    let other_expert = activate(&app, "sx_other@experts.test").await?;

    app.clock.advance(TimeDelta::days(19) + TimeDelta::hours(1));
    let busy_draw = request_draw(&app, &owner, &supervisor, &busy).await?;
    let quiet_draw = request_draw(&app, &owner, &supervisor, &quiet).await?;
    app.clock.advance(TimeDelta::minutes(16));
    app.drain().await?;
    accept_all(&app, &experts).await?;
    let members = seated(&app, &supervisor, &busy_draw).await?;
    assert_eq!(members.len(), 5);
    assert_eq!(seated(&app, &supervisor, &quiet_draw).await?.len(), 5);
    app.clock.advance(TimeDelta::days(2));
    drain(&app).await?;

    // The busy lot's committee reviews and scores everything.
    let committee: Vec<&Member> = experts.iter().filter(|m| members.contains(&m.id)).collect();
    let path = format!("/api/v1/tenders/{busy}/lots/1/evaluation");
    // A member asks the second bidder a question, which it answers (87号令 Art 51).
    let question = json!({"bidder_id": orgs[1], "question": "请说明交货期。",
        "answer_by": (app.state.now() + TimeDelta::days(1)).to_rfc3339()});
    let res = app
        .post(
            &format!("{path}/clarifications"),
            &question,
            Some(&committee[0].token),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let asked: Value = res.json().await?;
    let res = app
        .post(
            &format!(
                "/api/v1/tenders/{busy}/lots/1/clarifications/{}/answer",
                asked["clarification_id"].as_str().unwrap_or_default()
            ),
            &json!({"answer": "30 日内交货。"}),
            Some(&bidders[1].token),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    for (phase, items) in [
        (
            "review",
            orgs.iter()
                .map(|o| json!({"bidder_id": o, "check": "licence", "pass": true, "reason": ""}))
                .collect::<Vec<_>>(),
        ),
        (
            "scores",
            orgs.iter()
                .map(|o| json!({"bidder_id": o, "criterion": "plan", "score": "50"}))
                .collect(),
        ),
    ] {
        for m in &committee {
            let key = if phase == "review" {
                "verdicts"
            } else {
                "scores"
            };
            let sheet = json!({"phase": phase, "tender_id": busy, "lot_id": "1", "expert_id": m.id, key: items});
            let res = app
                .post(
                    &format!("{path}/{phase}"),
                    &signed(&m.key, &sheet),
                    Some(&m.token),
                )
                .await?;
            assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
        }
    }
    let view: Value = app.get(&path, Some(&supervisor)).await?.json().await?;
    assert_eq!(view["phase"], "scored", "the activity happened: {view}");

    let viewers: [(&str, Option<&str>); 4] = [
        ("public", None),
        ("tenderer", Some(&owner)),
        ("bidder", Some(&bidders[0].token)),
        ("an expert on neither committee", Some(&other_expert)),
    ];
    let paths = [
        "/api/v1/tenders/{id}",
        "/api/v1/tenders/{id}/lots/1/opening",
        "/api/v1/tenders/{id}/lots/1/evaluation",
        "/api/v1/tenders/{id}/lots/1/evaluation/review",
        "/api/v1/tenders/{id}/lots/1/evaluation/clarifications",
        "/api/v1/tenders/{id}/lots/1/clarifications",
        "/api/v1/tenders/{id}/lots/1/evaluation/report",
        "/api/v1/tenders/{id}/lots/1/evaluation/report.html",
        "/api/v1/tenders/{id}/lots/1/candidates",
        "/api/v1/tenders/{id}/lots/1/price-k",
        "/api/v1/tenders/{id}/lots/1/deposits",
        "/api/v1/tenders/{id}/audit",
        "/api/v1/tenders/{id}/lots/1/bid",
        "/api/v1/draws/{draw}",
        "/api/v1/draws/{draw}/proof",
    ];
    for (who, token) in viewers {
        for path in paths {
            let (status_a, body_a) =
                seen(&app, &path.replace("{draw}", &busy_draw), &busy, token).await?;
            let (status_b, body_b) =
                seen(&app, &path.replace("{draw}", &quiet_draw), &quiet, token).await?;
            assert_eq!(
                status_a, status_b,
                "{who} GET {path}\n busy:  {body_a}\n quiet: {body_b}"
            );
            let a = stripped(
                serde_json::from_str(&body_a).unwrap_or(Value::String(body_a.clone())),
                &busy,
                &quiet,
                &busy_draw,
                &quiet_draw,
            );
            let b = stripped(
                serde_json::from_str(&body_b).unwrap_or(Value::String(body_b.clone())),
                &quiet,
                &quiet,
                &quiet_draw,
                &quiet_draw,
            );
            assert_eq!(a, b, "{who} GET {path}\n busy:  {body_a}\n quiet: {body_b}");
        }
        // Notifications name the two tenders alike.
        if let Some(token) = token {
            let list: Value = app
                .get("/api/v1/notifications", Some(token))
                .await?
                .json()
                .await?;
            let about = |id: &str| {
                list["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|n| n.to_string().contains(id))
                    .count()
            };
            assert_eq!(about(&busy), about(&quiet), "{who}'s notifications: {list}");
        }
    }
    // No member of the busy committee is named to them anywhere they can read.
    for token in [&owner, &bidders[0].token, &other_expert] {
        let body = app
            .get(&format!("/api/v1/draws/{busy_draw}"), Some(token))
            .await?
            .text()
            .await?;
        for m in &members {
            assert!(!body.contains(m.as_str()), "{body}");
        }
    }
    Ok(())
}
