//! The evaluation set-up published with a tender (docs/spec/evaluation.md "The set-up";
//! docs/spec/rules.md "Experts and evaluation", 87号令 Art 55 and 57): refused at publication with
//! a code naming the rule, and the draft unchanged; shown to everyone once published; changed only
//! by an amendment, which then counts as affecting bids (实施条例 Art 21).

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestResult, assert_problem, text};

fn goods(app: &TestApp, evaluation: Value) -> Value {
    json!({
        "title": "办公设备采购", "kind": "goods", "procedure": "open_tender",
        "award_method": "comprehensive_scoring",
        "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
        "bid_deadline": (app.state.now() + TimeDelta::days(30)).to_rfc3339(),
        "evaluation": evaluation,
    })
}

fn scoring(price: &str, tech: &str, range_min: &str) -> Value {
    json!({
        "method": "comprehensive_scoring",
        "compliance": [{"id": "licence", "title": "营业执照有效"}],
        "criteria": [
            {"id": "price", "title": "价格", "weight": price, "type": "price"},
            {"id": "tech", "title": "技术方案", "weight": tech, "type": "subjective",
             "range": {"min": range_min, "max": tech}}
        ],
        "price": {"method": "gp_lowest_base", "sme_deduction": "10"}
    })
}

/// Creates the draft and tries to publish it; returns the draft's id and the answer.
async fn try_publish(
    app: &TestApp,
    token: &str,
    body: &Value,
) -> anyhow::Result<(String, reqwest::Response)> {
    let res = app.post("/api/v1/tenders", body, Some(token)).await?;
    anyhow::ensure!(res.status() == StatusCode::CREATED, "{}", res.text().await?);
    let id = text(&res.json::<Value>().await?["id"]);
    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/publish"),
            &json!({}),
            Some(token),
        )
        .await?;
    Ok((id, res))
}

#[tokio::test]
async fn publication_refuses_a_set_up_against_art_55_and_57_and_changes_nothing() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@setup.test", "tenderer").await?;
    let mut dropping = scoring("30", "70", "0");
    dropping["price"] = json!({"method": "mean_base", "mean_base": {
        "drop_highest": 1, "drop_lowest": 1, "e_above": "1", "e_below": "0.5"}});
    let mut missing = goods(&app, Value::Null);
    missing.as_object_mut().map(|o| o.remove("evaluation"));
    let cases = [
        (
            goods(&app, scoring("20", "80", "0")),
            "price_weight_too_low",
        ),
        (goods(&app, scoring("30", "60", "0")), "weights_not_100"),
        (goods(&app, scoring("30", "70", "70")), "empty_range"),
        (goods(&app, dropping), "price_drop_forbidden"),
        (missing, "evaluation_missing"),
    ];
    for (body, code) in cases {
        let (id, res) = try_publish(&app, &owner, &body).await?;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, code).await?;
        assert!(text(&problem["detail"]).len() > 20, "{problem}");
        let view: Value = app
            .get(&format!("/api/v1/tenders/{id}"), Some(&owner))
            .await?
            .json()
            .await?;
        assert_eq!(view["status"], "draft", "{code}: still a draft");
    }
    // Services need 10 points of price, not 30.
    let mut services = goods(&app, scoring("10", "90", "0"));
    services["kind"] = json!("services");
    let (id, res) = try_publish(&app, &owner, &services).await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    // Published: anyone reads the set-up.
    let view: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(view["evaluation"]["criteria"][0]["weight"], "10");
    assert_eq!(view["evaluation"]["price"]["sme_deduction"], "10");
    Ok(())
}

#[tokio::test]
async fn an_amendment_changes_the_set_up_only_by_the_rules_and_moves_the_deadline() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@amend-setup.test", "tenderer").await?;
    let mut body = goods(&app, scoring("30", "70", "0"));
    body["bid_deadline"] = json!((app.state.now() + TimeDelta::days(21)).to_rfc3339());
    let id = app.publish_tender(&owner, &body).await?;
    app.clock.advance(TimeDelta::days(10));
    let owner = app.sign_in("owner@amend-setup.test", PASSWORD).await?;

    // A set-up the rules refuse is refused in an amendment too, and nothing is published.
    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/amendments"),
            &json!({"title": "评分办法调整", "body": "价格分调整为 25 分。", "affects_bids": false,
                    "evaluation": scoring("25", "75", "0")}),
            Some(&owner),
        )
        .await?;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "price_weight_too_low",
    )
    .await?;
    let list: Value = app
        .get(&format!("/api/v1/tenders/{id}/amendments"), None)
        .await?
        .json()
        .await?;
    assert_eq!(list["items"], json!([]));

    // A lawful one is published; even said not to affect bids, it moves the deadline to 15 days.
    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/amendments"),
            &json!({"title": "评分办法调整", "body": "价格分调整为 40 分。", "affects_bids": false,
                    "evaluation": scoring("40", "60", "0")}),
            Some(&owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let amendment: Value = res.json().await?;
    assert_eq!(amendment["affects_bids"], true, "{amendment}");
    let view: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(view["evaluation"]["criteria"][0]["weight"], "40");
    let deadline: chrono::DateTime<chrono::Utc> = text(&view["bid_deadline"]).parse()?;
    assert!(
        deadline >= app.state.now() + TimeDelta::days(15),
        "{deadline}"
    );
    Ok(())
}
