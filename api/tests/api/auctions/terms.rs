//! The seller's terms (docs/auctions.md "Forms"): checked against the procedure, published with the
//! lot, the reserve sealed and never shown (docs/spec/rules.md "Auctions": the reserve is secret
//! until the end).

use chrono::Duration;
use reqwest::{Method, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tenderhall_domain::id::{LotId, TenderId};
use tenderhall_domain::tender::store::lots;

use super::land_listing;
use crate::helpers::{TestApp, TestResult, assert_problem, text};

async fn lot_row(app: &TestApp, tender: &str) -> anyhow::Result<lots::Model> {
    lots::Entity::find_by_id((tender.to_owned(), "1".to_owned()))
        .one(app.state.db())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no lot row"))
}

#[tokio::test]
async fn a_listing_publishes_its_terms_and_keeps_the_reserve_sealed_to_the_lot_key() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (seller, _) = app.member("land@tenderer.test", "tenderer").await?;
    let res = app
        .post(
            "/api/v1/tenders",
            &land_listing(&app, 21, 10),
            Some(&seller),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let draft: Value = res.json().await?;
    let id = text(&draft["id"]);
    let terms = &draft["lots"][0]["auction"];
    assert_eq!(terms["form"], "listing");
    assert_eq!(terms["start_price"]["amount"], "1000000.00");
    assert_eq!(terms["increment"], "10000");
    assert_eq!(terms["countdown_seconds"], 60);
    assert_eq!(terms["reserve_set"], true);
    // The draft's reserve is wrapped under the master key: no plaintext in the row.
    let row = lot_row(&app, &id).await?;
    assert_eq!(row.reserve_sealed_to.as_deref(), Some("master"));
    assert!(!row.reserve_sealed.unwrap_or_default().contains("1200000"));

    // A change that leaves the lots alone keeps the sealed reserve.
    let res = app
        .request(
            Method::PATCH,
            &format!("/api/v1/tenders/{id}"),
            Some(&seller),
        )
        .json(&json!({"title": "城东地块挂牌出让（更正）"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await?["lots"][0]["auction"]["reserve_set"],
        true
    );

    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/publish"),
            &json!({}),
            Some(&seller),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    let row = lot_row(&app, &id).await?;
    assert_eq!(row.reserve_sealed_to.as_deref(), Some("opening_key"));
    let sealed = row.reserve_sealed.unwrap_or_default();

    // Nobody reads it in the answers: not the public, not the seller.
    for token in [None, Some(seller.as_str())] {
        let body = app
            .get(&format!("/api/v1/tenders/{id}"), token)
            .await?
            .text()
            .await?;
        assert!(!body.contains("1200000"), "{body}");
        assert!(!body.contains("reserve_price"), "{body}");
    }

    // It opens with the lot's opening key, which unwraps only from the deadline on.
    let tender = TenderId::parse(&id)?;
    let lot = LotId::parse("1")?;
    let deadline = app.state.now() + Duration::days(21);
    let db = app.state.db();
    let early = tenderhall_domain::bid::keys::unwrap_opening_key(
        db,
        app.state.master_key(),
        &tender,
        &lot,
        deadline,
        app.state.now(),
    )
    .await;
    assert!(
        early.is_err(),
        "the opening key unwrapped before the deadline"
    );
    let secret = tenderhall_domain::bid::keys::unwrap_opening_key(
        db,
        app.state.master_key(),
        &tender,
        &lot,
        deadline,
        deadline,
    )
    .await?;
    let reserve = tenderhall_domain::tender::reserve::open_reserve(&secret, &id, "1", &sealed)?;
    assert_eq!(reserve.to_string(), "1200000.00");
    // Bound to its lot: the same ciphertext does not open as another lot's.
    assert!(tenderhall_domain::tender::reserve::open_reserve(&secret, &id, "2", &sealed).is_err());
    Ok(())
}

#[tokio::test]
async fn a_land_listing_shorter_than_ten_days_is_refused_at_publication() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (seller, _) = app.member("land@tenderer.test", "tenderer").await?;
    let res = app
        .post("/api/v1/tenders", &land_listing(&app, 21, 9), Some(&seller))
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = text(&res.json::<Value>().await?["id"]);
    let problem = assert_problem(
        app.post(
            &format!("/api/v1/tenders/{id}/publish"),
            &json!({}),
            Some(&seller),
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "period_too_short",
    )
    .await?;
    assert_eq!(problem["field"], "lots[0].auction.listing_end");
    assert!(text(&problem["detail"]).contains("10 days"), "{problem}");
    // Announced less than 20 days ahead: the procedure table's own minimum.
    let res = app
        .post(
            "/api/v1/tenders",
            &land_listing(&app, 15, 10),
            Some(&seller),
        )
        .await?;
    let id = text(&res.json::<Value>().await?["id"]);
    let problem = assert_problem(
        app.post(
            &format!("/api/v1/tenders/{id}/publish"),
            &json!({}),
            Some(&seller),
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "period_too_short",
    )
    .await?;
    assert_eq!(problem["field"], "bid_deadline");
    Ok(())
}

#[tokio::test]
async fn terms_must_fit_the_procedure_and_are_422_naming_the_field() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (seller, _) = app.member("land@tenderer.test", "tenderer").await?;
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "lots[0].auction",
            Box::new(|b: &mut Value| {
                b["lots"][0].as_object_mut().map(|l| l.remove("auction"));
            }),
        ),
        (
            "lots[0].auction.form",
            Box::new(|b: &mut Value| b["lots"][0]["auction"]["form"] = json!("english")),
        ),
        (
            "lots[0].auction.increment",
            Box::new(|b: &mut Value| b["lots"][0]["auction"]["increment"] = json!("0")),
        ),
        (
            "lots[0].auction.listing_end",
            Box::new(|b: &mut Value| {
                b["lots"][0]["auction"]["listing_end"] = b["bid_deadline"].clone();
            }),
        ),
        (
            "lots[0].auction",
            Box::new(|b: &mut Value| b["procedure"] = json!("open_tender")),
        ),
    ];
    for (field, change) in cases {
        let mut body = land_listing(&app, 21, 10);
        change(&mut body);
        let problem = assert_problem(
            app.post("/api/v1/tenders", &body, Some(&seller)).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await?;
        assert_eq!(problem["field"], field, "{problem}");
    }
    // Nothing was created by the refusals.
    let stored = tenderhall_domain::tender::store::tenders::Entity::find()
        .count(app.state.db())
        .await?;
    assert_eq!(stored, 0);
    Ok(())
}
