//! Tenders (docs/spec/api-contract.md "Tenders"; docs/spec/rules.md "Procedure table", "Periods and deadlines", "Money").

use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResult, assert_problem, text};

fn tender(app: &TestApp, days: i64) -> Value {
    json!({
        "title": "城南道路改造工程施工招标",
        "kind": "construction",
        "procedure": "open_tender",
        "award_method": "comprehensive_scoring",
        "lots": [
            {"id": "1", "title": "一标段", "budget": {"amount": "10000000.00", "currency": "CNY"}, "deposit": {"amount": "200000.00", "currency": "CNY"}},
            {"id": "2", "title": "二标段", "budget": {"amount": "5000000.00", "currency": "CNY"}, "deposit": {"amount": "100000.00", "currency": "CNY"}, "price_ceiling": {"amount": "4800000.00", "currency": "CNY"}}
        ],
        "document_fee": {"amount": "200.00", "currency": "CNY"},
        "bid_deadline": (app.state.now() + Duration::days(days)).to_rfc3339(),
        "bid_validity_days": 90,
        "opening_fields": ["duration_days"],
        "evaluation": {
            "method": "comprehensive_scoring",
            "criteria": [
                {"id": "price", "title": "投标报价", "weight": "60", "type": "price"},
                {"id": "duration", "title": "工期", "weight": "10", "type": "objective",
                 "field": "duration_days", "better": "lower"},
                {"id": "plan", "title": "施工组织设计", "weight": "30", "type": "subjective",
                 "range": {"min": "0", "max": "30"}}
            ],
            "price": {"method": "gp_lowest_base"}
        }
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> anyhow::Result<Value> {
    let res = app.post("/api/v1/tenders", body, Some(token)).await?;
    anyhow::ensure!(
        res.status() == StatusCode::CREATED,
        "create: {}",
        res.text().await?
    );
    Ok(res.json().await?)
}

async fn publish(app: &TestApp, token: &str, id: &str) -> anyhow::Result<reqwest::Response> {
    app.post(
        &format!("/api/v1/tenders/{id}/publish"),
        &json!({}),
        Some(token),
    )
    .await
}

async fn patch(
    app: &TestApp,
    token: &str,
    id: &str,
    body: &Value,
) -> anyhow::Result<reqwest::Response> {
    Ok(app
        .request(Method::PATCH, &format!("/api/v1/tenders/{id}"), Some(token))
        .json(body)
        .send()
        .await?)
}

#[tokio::test]
async fn a_tenderer_creates_edits_publishes_and_cancels_a_tender_each_step_audited() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (tenderer, org) = app.member("li@tenderer.test", "tenderer").await?;
    let created = create(&app, &tenderer, &tender(&app, 25)).await?;
    let id = text(&created["id"]);
    assert_eq!(created["status"], "draft");
    assert_eq!(created["tenderer_id"], org.as_str());
    assert_eq!(created["lots"][1]["price_ceiling"]["amount"], "4800000.00");
    assert_eq!(
        created["document_fee"],
        json!({"amount": "200.00", "currency": "CNY"})
    );

    let res = patch(
        &app,
        &tenderer,
        &id,
        &json!({"title": "城南道路改造工程（二次）"}),
    )
    .await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await?["title"],
        "城南道路改造工程（二次）"
    );

    let res = publish(&app, &tenderer, &id).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let published: Value = res.json().await?;
    assert_eq!(published["status"], "active");
    assert!(published["published_at"].is_string());

    let public: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(public["status"], "active");
    let res = patch(&app, &tenderer, &id, &json!({"title": "x"})).await?;
    assert_problem(res, StatusCode::CONFLICT, "not_draft").await?;

    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/cancel"),
            &json!({"reason": "项目资金未落实"}),
            Some(&tenderer),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let public: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(public["status"], "cancelled");
    assert_eq!(public["cancel_reason"], "项目资金未落实");
    assert!(
        public["lots"]
            .as_array()
            .is_some_and(|l| l.iter().all(|l| l["status"] == "cancelled"))
    );
    let again = app
        .post(
            &format!("/api/v1/tenders/{id}/cancel"),
            &json!({"reason": "again"}),
            Some(&tenderer),
        )
        .await?;
    assert_problem(again, StatusCode::CONFLICT, "not_cancellable").await?;

    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let log: Value = app
        .get(&format!("/api/v1/tenders/{id}/audit"), Some(&supervisor))
        .await?
        .json()
        .await?;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        actions,
        [
            "tender.create",
            "tender.update",
            "tender.publish",
            "tender.cancel"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_draft_is_its_owners_alone() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@tenderer.test", "tenderer").await?;
    let (other, _) = app.member("other@tenderer.test", "tenderer").await?;
    let id = text(&create(&app, &owner, &tender(&app, 25)).await?["id"]);
    let path = format!("/api/v1/tenders/{id}");

    assert_eq!(app.get(&path, Some(&owner)).await?.status(), StatusCode::OK);
    assert_problem(
        app.get(&path, Some(&other)).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    assert_problem(
        app.get(&path, None).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    assert_problem(
        patch(&app, &other, &id, &json!({"title": "x"})).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    assert_problem(
        publish(&app, &other, &id).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let cancel = app
        .post(
            &format!("{path}/cancel"),
            &json!({"reason": "r"}),
            Some(&other),
        )
        .await?;
    assert_problem(cancel, StatusCode::NOT_FOUND, "not_found").await?;
    let listed: Value = app.get("/api/v1/tenders", None).await?.json().await?;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(0),
        "a draft appeared in the public list"
    );
    let mine: Value = app
        .get("/api/v1/tenders?mine=true", Some(&owner))
        .await?
        .json()
        .await?;
    assert_eq!(mine["items"][0]["id"], id.as_str());
    Ok(())
}

#[tokio::test]
async fn bidders_and_signed_out_callers_cannot_create_tenders() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (bidder, _) = app.member("b@bidder.test", "bidder").await?;
    let body = tender(&app, 25);
    assert_problem(
        app.post("/api/v1/tenders", &body, Some(&bidder)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    assert_problem(
        app.post("/api/v1/tenders", &body, None).await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_unverified_tenderer_is_refused_with_org_unverified() -> TestResult {
    let app = TestApp::spawn().await?;
    let (tenderer, _) = app.member("new@tenderer.test", "tenderer").await?;
    let res = app
        .post("/api/v1/tenders", &tender(&app, 25), Some(&tenderer))
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "org_unverified").await?;
    Ok(())
}

#[tokio::test]
async fn art_24_a_deadline_under_20_days_is_period_too_short_and_the_tender_stays_a_draft()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (tenderer, _) = app.member("t@tenderer.test", "tenderer").await?;
    let id = text(&create(&app, &tenderer, &tender(&app, 19)).await?["id"]);
    let problem = assert_problem(
        publish(&app, &tenderer, &id).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "period_too_short",
    )
    .await?;
    assert_eq!(problem["field"], "bid_deadline");
    assert!(
        text(&problem["detail"]).contains("招标投标法 Art 24"),
        "{problem}"
    );
    let still: Value = app
        .get(&format!("/api/v1/tenders/{id}"), Some(&tenderer))
        .await?
        .json()
        .await?;
    assert_eq!(still["status"], "draft");
    Ok(())
}

#[tokio::test]
async fn art_26_a_deposit_above_the_cap_is_deposit_too_high() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (tenderer, _) = app.member("t@tenderer.test", "tenderer").await?;
    let mut body = tender(&app, 25);
    body["lots"][1]["deposit"] = json!({"amount": "100000.01", "currency": "CNY"});
    let id = text(&create(&app, &tenderer, &body).await?["id"]);
    let problem = assert_problem(
        publish(&app, &tenderer, &id).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "deposit_too_high",
    )
    .await?;
    assert_eq!(problem["field"], "lots[1].deposit");
    assert!(
        text(&problem["detail"]).contains("实施条例 Art 26"),
        "{problem}"
    );
    Ok(())
}

#[tokio::test]
async fn a_procedure_that_does_not_fit_the_kind_is_procedure_mismatch() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (tenderer, _) = app.member("t@tenderer.test", "tenderer").await?;
    let mut body = tender(&app, 25);
    body["procedure"] = json!("auction");
    // Well-formed auction terms, so that the draft is taken and publication judges the procedure.
    for lot in body["lots"].as_array_mut().into_iter().flatten() {
        lot["auction"] = json!({"form": "english", "start_price": "1000000", "increment": "10000"});
    }
    let id = text(&create(&app, &tenderer, &body).await?["id"]);
    let problem = assert_problem(
        publish(&app, &tenderer, &id).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "procedure_mismatch",
    )
    .await?;
    assert_eq!(problem["field"], "procedure");
    assert!(
        text(&problem["detail"]).contains("open_tender"),
        "{problem}"
    );
    Ok(())
}

#[tokio::test]
async fn unknown_values_are_422_with_the_known_ones() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (tenderer, _) = app.member("t@tenderer.test", "tenderer").await?;
    let mut body = tender(&app, 25);
    body["kind"] = json!("bridges");
    let problem = assert_problem(
        app.post("/api/v1/tenders", &body, Some(&tenderer)).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;
    assert_eq!(problem["field"], "kind");
    assert!(text(&problem["detail"]).contains("property_rights"));
    let mut body = tender(&app, 25);
    body["lots"][0]["budget"] = json!({"amount": "12.345", "currency": "CNY"});
    let problem = assert_problem(
        app.post("/api/v1/tenders", &body, Some(&tenderer)).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;
    assert_eq!(problem["field"], "lots[0].budget");
    Ok(())
}

#[tokio::test]
async fn an_agency_creates_tenders_for_a_named_tenderer_and_both_are_recorded() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (agency, agency_org) = app.member("a@agency.test", "agency").await?;
    let (tenderer, tenderer_org) = app.member("t@tenderer.test", "tenderer").await?;
    let (_, bidder_org) = app.member("b@bidder.test", "bidder").await?;
    let body = tender(&app, 25);
    let problem = assert_problem(
        app.post("/api/v1/tenders", &body, Some(&agency)).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;
    assert_eq!(problem["field"], "tenderer_id");
    let mut for_bidder = body.clone();
    for_bidder["tenderer_id"] = json!(bidder_org);
    assert_problem(
        app.post("/api/v1/tenders", &for_bidder, Some(&agency))
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;

    let mut on_behalf = body.clone();
    on_behalf["tenderer_id"] = json!(tenderer_org);
    let granted = app
        .post(
            &format!("/api/v1/organizations/{tenderer_org}/mandates"),
            &json!({"agency_id": agency_org}),
            Some(&tenderer),
        )
        .await?;
    assert_eq!(granted.status(), StatusCode::CREATED);
    let created = create(&app, &agency, &on_behalf).await?;
    assert_eq!(created["tenderer_id"], tenderer_org.as_str());
    assert_eq!(created["agency_id"], agency_org.as_str());
    // The tenderer it acts for sees the draft too.
    assert_eq!(
        app.get(
            &format!("/api/v1/tenders/{}", text(&created["id"])),
            Some(&tenderer)
        )
        .await?
        .status(),
        StatusCode::OK
    );
    Ok(())
}

/// 招标投标法 Art 13, 15 (委托代理): an agency acts for a tenderer only within the tenderer's
/// mandate. Without one it cannot create a tender in the tenderer's name; once the tenderer
/// revokes it, the agency can no longer publish, amend or cancel the tenderer's tenders; every act
/// under a mandate is on the tender's audit chain.
#[tokio::test]
async fn an_agency_acts_for_a_tenderer_only_under_its_current_mandate() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (agency, agency_org) = app.member("a@agency.test", "agency").await?;
    let (tenderer, tenderer_org) = app.member("t@tenderer.test", "tenderer").await?;
    let (other, _) = app.member("o@tenderer.test", "tenderer").await?;
    let mandates = format!("/api/v1/organizations/{tenderer_org}/mandates");
    let mut body = tender(&app, 25);
    body["tenderer_id"] = json!(tenderer_org);
    // No mandate: the agency cannot publish in the tenderer's name.
    assert_problem(
        app.post("/api/v1/tenders", &body, Some(&agency)).await?,
        StatusCode::FORBIDDEN,
        "no_mandate",
    )
    .await?;
    // Only the tenderer's own members grant it.
    assert_problem(
        app.post(&mandates, &json!({"agency_id": agency_org}), Some(&other))
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let granted: Value = app
        .post(
            &mandates,
            &json!({"agency_id": agency_org}),
            Some(&tenderer),
        )
        .await?
        .json()
        .await?;
    assert_eq!(granted["current"], true);
    assert_problem(
        app.post(
            &mandates,
            &json!({"agency_id": agency_org}),
            Some(&tenderer),
        )
        .await?,
        StatusCode::CONFLICT,
        "mandate_exists",
    )
    .await?;
    // The agency sees the mandates it holds.
    let listed: Value = app
        .get(
            &format!("/api/v1/organizations/{agency_org}/mandates"),
            Some(&agency),
        )
        .await?
        .json()
        .await?;
    assert_eq!(listed["items"][0]["mandate_id"], granted["mandate_id"]);

    let id = text(&create(&app, &agency, &body).await?["id"]);
    let revoked: Value = app
        .delete(
            &format!("{mandates}/{}", text(&granted["mandate_id"])),
            Some(&tenderer),
        )
        .await?
        .json()
        .await?;
    assert_eq!(revoked["current"], false);
    // The agency's drafts list no longer shows the tenderer's tender; the tenderer's does.
    for (token, listed) in [(&agency, false), (&tenderer, true)] {
        let page: Value = app
            .get("/api/v1/tenders?mine=true", Some(token))
            .await?
            .json()
            .await?;
        assert_eq!(page.to_string().contains(&id), listed, "{page}");
    }
    assert_problem(
        app.post(
            &format!("/api/v1/tenders/{id}/publish"),
            &json!({}),
            Some(&agency),
        )
        .await?,
        StatusCode::FORBIDDEN,
        "no_mandate",
    )
    .await?;
    // The tenderer itself still runs its tender, and the log shows the agency's act.
    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/publish"),
            &json!({}),
            Some(&tenderer),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let log: Value = app
        .get(&format!("/api/v1/tenders/{id}/audit"), Some(&supervisor))
        .await?
        .json()
        .await?;
    let uses: Vec<&Value> = log["items"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["action"] == "mandate.use").collect())
        .unwrap_or_default();
    assert_eq!(uses.len(), 1, "{log}");
    assert_eq!(uses[0]["details"]["action"], "tender.create");
    assert_eq!(
        uses[0]["object"],
        format!("mandate:{}", text(&granted["mandate_id"]))
    );
    Ok(())
}

#[tokio::test]
async fn the_accelerator_is_refused_without_sandbox() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let (tenderer, org) = app.member("t@tenderer.test", "tenderer").await?;
    app.post(
        &format!("/api/v1/organizations/{org}/verify"),
        &json!({}),
        Some(&operator),
    )
    .await?;
    let mut body = tender(&app, 25);
    body["accelerator"] = json!(86400);
    assert_problem(
        app.post("/api/v1/tenders", &body, Some(&tenderer)).await?,
        StatusCode::FORBIDDEN,
        "sandbox_only",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_accelerated_20_day_procedure_runs_in_20_seconds_on_a_sandbox() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (tenderer, _) = app.member("t@tenderer.test", "tenderer").await?;
    let mut body = tender(&app, 0);
    body["accelerator"] = json!(86400);
    body["bid_deadline"] = json!((app.state.now() + Duration::seconds(19)).to_rfc3339());
    let id = text(&create(&app, &tenderer, &body).await?["id"]);
    assert_problem(
        publish(&app, &tenderer, &id).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "period_too_short",
    )
    .await?;
    let res = patch(
        &app,
        &tenderer,
        &id,
        &json!({"bid_deadline": (app.state.now() + Duration::seconds(21)).to_rfc3339()}),
    )
    .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let res = publish(&app, &tenderer, &id).await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await?["accelerator"], 86400);
    let out_of_range = patch(&app, &tenderer, &id, &json!({"accelerator": 0})).await?;
    assert_eq!(out_of_range.status(), StatusCode::CONFLICT);
    Ok(())
}

#[tokio::test]
async fn working_days_count_on_the_holiday_calendar_across_the_national_day() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (tenderer, _) = app.member("t@tenderer.test", "tenderer").await?;
    // Tuesday 29 September 2026, 15:00 in Beijing.
    let published: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 9, 29, 7, 0, 0)
        .single()
        .unwrap_or_default();
    app.clock.set(published);
    let mut body = tender(&app, 0);
    body["kind"] = json!("goods");
    body["procedure"] = json!("inquiry");
    body["award_method"] = json!("lowest_evaluated_price");
    // Ranked by price alone: no set-up of comprehensive scoring.
    body.as_object_mut().map(|o| o.remove("evaluation"));
    // 3 working days: 30 September, 8 and 9 October (1–7 October are the National Day holiday).
    body["bid_deadline"] = json!("2026-10-09T06:59:59Z");
    let id = text(&create(&app, &tenderer, &body).await?["id"]);
    assert_problem(
        publish(&app, &tenderer, &id).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "period_too_short",
    )
    .await?;
    patch(
        &app,
        &tenderer,
        &id,
        &json!({"bid_deadline": "2026-10-09T07:00:00Z"}),
    )
    .await?;
    assert_eq!(
        publish(&app, &tenderer, &id).await?.status(),
        StatusCode::OK
    );
    Ok(())
}

#[tokio::test]
async fn operators_edit_the_holiday_calendar_and_nobody_else() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    let (tenderer, _) = app.member("t@tenderer.test", "tenderer").await?;
    let calendar: Value = app.get("/api/v1/calendar", None).await?.json().await?;
    assert!(calendar["items"].as_array().is_some_and(|d| {
        d.iter()
            .any(|d| d["day"] == "2026-10-10" && d["kind"] == "workday")
    }));
    let day = json!({"kind": "holiday", "name": "元旦"});
    let res = app
        .request(Method::PUT, "/api/v1/calendar/2027-01-01", Some(&tenderer))
        .json(&day)
        .send()
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    let res = app
        .request(Method::PUT, "/api/v1/calendar/2027-01-01", Some(&operator))
        .json(&day)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let calendar: Value = app.get("/api/v1/calendar", None).await?.json().await?;
    assert!(
        calendar["items"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["day"] == "2027-01-01"))
    );
    let procedures: Value = app.get("/api/v1/procedures", None).await?.json().await?;
    assert!(
        procedures["items"]
            .as_array()
            .is_some_and(|rows| rows.len() >= 15)
    );
    Ok(())
}
