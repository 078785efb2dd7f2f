//! Final quotes in an inquiry (最后报价; 政府采购非招标采购方式管理办法 Art 32, 45;
//! docs/spec/evaluation.md "Final quotes"): the panel calls a round from the bidders still in;
//! each seals its quote in the bid envelope to the round's own key and gets a signed receipt;
//! nothing opens before the round's deadline, then every quote opens together and the platform
//! signs the round's record. A bidder without a quote is out; the ranking takes the final prices.
//! A round that leaves fewer than three bidders fails the lot (Art 27).

use base64::Engine as _;
use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::evaluation::{scene, seat_and_open};
use super::{bidder, drain, opening_key, put_bid, sealed_bid};
use crate::helpers::{TestResult, assert_problem, text};

#[tokio::test]
async fn an_inquiry_takes_sealed_final_quotes_opened_together_at_the_round_deadline() -> TestResult
{
    let scene = scene("owner@rounds.test").await?;
    let (app, supervisor, owner) = (&scene.app, &scene.supervisor, &scene.owner);
    let tender = app
        .publish_tender(
            owner,
            &json!({
                "title": "办公设备询价采购", "kind": "goods", "procedure": "inquiry",
                "award_method": "lowest_evaluated_price",
                "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "1000"}],
                "bid_deadline": (app.state.now() + TimeDelta::days(21)).to_rfc3339(),
            }),
        )
        .await?;
    let key = opening_key(app, &tender).await?;
    let mut bidders = Vec::new();
    for (email, price) in [
        ("a@rnd.test", "90000.00"),
        ("b@rnd.test", "95000.00"),
        ("c@rnd.test", "99000.00"),
        ("d@rnd.test", "99500.00"),
    ] {
        let b = bidder(app, email, &tender).await?;
        let res = put_bid(app, &b, &tender, sealed_bid(&b, &tender, &key, price)?).await?;
        assert_eq!(res.status(), StatusCode::CREATED);
        bidders.push(b);
    }
    let orgs: Vec<String> = bidders.iter().map(|b| b.org.clone()).collect();
    let (members, _) = seat_and_open(&scene, &tender, "qx").await?;

    let room = format!("/api/v1/tenders/{tender}/lots/1/evaluation");
    let calls = format!("{room}/rounds");
    let view: Value = app.get(&room, Some(supervisor)).await?.json().await?;
    assert_eq!(
        view["ranking"]["results"][0]["bidder_id"],
        json!(orgs[0]),
        "{view}"
    );

    // Only the panel calls a round, with a deadline ahead.
    let tomorrow = (app.state.now() + TimeDelta::days(1)).to_rfc3339();
    for token in [owner, &bidders[0].token] {
        let res = app
            .post(&calls, &json!({"deadline": tomorrow}), Some(token))
            .await?;
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    }
    let past = json!({"deadline": app.state.now().to_rfc3339()});
    let res = app.post(&calls, &past, Some(&members[0].token)).await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    let res = app
        .post(
            &calls,
            &json!({"deadline": tomorrow}),
            Some(&members[0].token),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let round: Value = res.json().await?;
    assert_eq!(round["round"], 1);
    assert_eq!(round["bidders"].as_array().map(Vec::len), Some(4));
    let res = app
        .post(
            &calls,
            &json!({"deadline": tomorrow}),
            Some(&members[1].token),
        )
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "wrong_phase").await?;
    // While it runs, there is no ranking and no report.
    let view: Value = app.get(&room, Some(supervisor)).await?.json().await?;
    assert!(view["ranking"].is_null(), "{view}");
    assert_eq!(view["rounds"][0]["status"], "open");
    assert_problem(
        app.get(&format!("{room}/report"), Some(&members[0].token))
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;

    // The bidders called read the round's key; the owner does not learn of the round.
    let path = format!("/api/v1/tenders/{tender}/lots/1/rounds/1");
    let seen: Value = app
        .get(&path, Some(&bidders[1].token))
        .await?
        .json()
        .await?;
    assert_eq!(seen["status"], "open", "{seen}");
    assert!(
        seen["bidders"].is_null(),
        "a bidder does not see who else was called"
    );
    assert_problem(
        app.get(&path, Some(owner)).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let round_key = base64::engine::general_purpose::STANDARD.decode(text(&seen["public_key"]))?;
    let quote = format!("{path}/quote");
    let put = |b: usize, envelope: Vec<u8>| {
        let app = &app;
        let token = bidders[b].token.clone();
        let quote = quote.clone();
        async move {
            app.request(reqwest::Method::PUT, &quote, Some(&token))
                .header("content-type", "application/vnd.tenderhall.bid")
                .body(envelope)
                .send()
                .await
        }
    };
    // Sealed to the lot's opening key instead of the round's: refused.
    let res = put(1, sealed_bid(&bidders[1], &tender, &key, "85000.00")?).await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "wrong_recipient").await?;
    // B quotes twice (the second replaces the first), C and D once, A not at all.
    for (b, price) in [
        (1, "86000.00"),
        (1, "85000.00"),
        (2, "88000.00"),
        (3, "97000.00"),
    ] {
        let res = put(b, sealed_bid(&bidders[b], &tender, &round_key, price)?).await?;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
        let receipt: Value = res.json().await?;
        assert_eq!(receipt["round"], 1, "{receipt}");
    }

    // At the deadline every quote opens together; the record is signed.
    app.clock
        .advance(TimeDelta::days(1) + TimeDelta::minutes(1));
    drain(app).await?;
    let res = put(0, sealed_bid(&bidders[0], &tender, &round_key, "80000.00")?).await?;
    assert_problem(res, StatusCode::CONFLICT, "deadline_passed").await?;
    let opened: Value = app
        .get(&path, Some(&members[2].token))
        .await?
        .json()
        .await?;
    let record = &opened["record"];
    assert_eq!(opened["status"], "opened", "{opened}");
    let line = |org: &str| {
        record["quotes"]
            .as_array()
            .and_then(|q| q.iter().find(|l| l["bidder_id"] == org).cloned())
            .unwrap_or(Value::Null)
    };
    assert_eq!(line(&orgs[0])["status"], "no_quote", "{record}");
    assert_eq!(
        line(&orgs[1])["fields"]["total_price"],
        "85000.00",
        "{record}"
    );
    assert_eq!(
        line(&orgs[2])["fields"]["total_price"],
        "88000.00",
        "{record}"
    );
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    let platform = base64::engine::general_purpose::STANDARD
        .decode(text(&keys["receipt_key"]["public_key"]))?;
    let mut unsigned = record.clone();
    unsigned.as_object_mut().map(|o| o.remove("signature"));
    assert!(tenderhall_domain::keys::verify_ed25519(
        &platform,
        tenderhall_domain::canonical::to_canonical_string(&unsigned).as_bytes(),
        &text(&record["signature"])
    ));

    // The ranking takes the final prices; A, without a quote, is out. The report carries the round.
    let view: Value = app.get(&room, Some(supervisor)).await?.json().await?;
    let order: Vec<String> = view["ranking"]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| text(&r["bidder_id"]))
        .collect();
    assert_eq!(
        order,
        [orgs[1].clone(), orgs[2].clone(), orgs[3].clone()],
        "{view}"
    );
    assert_eq!(view["ranking"]["results"][0]["price"], "85000.00");
    let draft: Value = app
        .get(&format!("{room}/report"), Some(&members[0].token))
        .await?
        .json()
        .await?;
    assert_eq!(draft["report"]["rounds"][0]["round"], 1, "{draft}");

    // A second round that only B answers leaves one bidder in: the lot fails (Art 27).
    let res = app
        .post(
            &calls,
            &json!({"deadline": (app.state.now() + TimeDelta::hours(2)).to_rfc3339()}),
            Some(&members[0].token),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let second: Value = res.json().await?;
    assert_eq!(
        second["bidders"].as_array().map(Vec::len),
        Some(3),
        "A is out: {second}"
    );
    let key2 = base64::engine::general_purpose::STANDARD.decode(text(&second["public_key"]))?;
    let res = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/tenders/{tender}/lots/1/rounds/2/quote"),
            Some(&bidders[1].token),
        )
        .header("content-type", "application/vnd.tenderhall.bid")
        .body(sealed_bid(&bidders[1], &tender, &key2, "84000.00")?)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    app.clock
        .advance(TimeDelta::hours(2) + TimeDelta::minutes(1));
    drain(app).await?;
    let public: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(public["lots"][0]["status"], "failed", "{public}");
    Ok(())
}
