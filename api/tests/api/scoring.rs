//! The scoring simulator (docs/spec/api-contract.md "Scoring simulator"; 87号令 Art 55): the same
//! price code the evaluation runs, public, changing nothing, answering to the cent.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResult, assert_problem};

#[tokio::test]
async fn art_55_anyone_scores_bids_by_the_lowest_evaluated_price_with_the_sme_deduction()
-> TestResult {
    let app = TestApp::spawn().await?;
    let res = app
        .post(
            "/api/v1/scoring/simulate",
            &json!({
                "price_method": "gp_lowest_base", "price_weight": "30", "sme_deduction": "10",
                "bids": [
                    {"bidder": "A", "price": "950000.00", "sme": false},
                    {"bidder": "B", "price": "1000000.00", "sme": true},
                    {"bidder": "C", "price": "1200000.00"}
                ]
            }),
            None,
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await?;
    // By hand: B evaluates at 1,000,000 × 0.9 = 900,000, the base; A 900,000 / 950,000 × 30.
    assert_eq!(
        body,
        json!({
            "base_price": "900000.00",
            "scores": [
                {"bidder": "B", "evaluated_price": "900000.00", "price_score": "30.00", "rank": 1},
                {"bidder": "A", "evaluated_price": "950000.00", "price_score": "28.42", "rank": 2},
                {"bidder": "C", "evaluated_price": "1200000.00", "price_score": "22.50", "rank": 3}
            ]
        })
    );
    Ok(())
}

#[tokio::test]
async fn the_mean_base_family_drops_extremes_floats_down_by_k_and_deducts_e_per_percent()
-> TestResult {
    let app = TestApp::spawn().await?;
    let body: Value = app
        .post(
            "/api/v1/scoring/simulate",
            &json!({
                "price_method": "mean_base", "price_weight": "60",
                "mean_base": {"drop_highest": 1, "drop_lowest": 1, "k": "0.02", "e_above": "1.0", "e_below": "0.5"},
                "bids": [
                    {"bidder": "A", "price": "90"}, {"bidder": "B", "price": "95"},
                    {"bidder": "C", "price": "100"}, {"bidder": "D", "price": "105"},
                    {"bidder": "E", "price": "130"}
                ]
            }),
            None,
        )
        .await?
        .json()
        .await?;
    // By hand: mean of 95, 100, 105 = 100, × 0.98 = 98. C: 2.0408…% above → 57.96; B: 3.0612…%
    // below × 0.5 → 58.47; A: 8.1632…% below × 0.5 → 55.92; D: 52.86; E: 27.35.
    assert_eq!(body["base_price"], "98.00");
    let ranked: Vec<(String, String)> = body["scores"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| {
            (
                s["bidder"].as_str().unwrap_or_default().to_owned(),
                s["price_score"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expect = [
        ("B", "58.47"),
        ("C", "57.96"),
        ("A", "55.92"),
        ("D", "52.86"),
        ("E", "27.35"),
    ];
    assert_eq!(ranked, expect.map(|(b, s)| (b.to_owned(), s.to_owned())));
    Ok(())
}

#[tokio::test]
async fn bad_input_is_a_422_naming_the_field() -> TestResult {
    let app = TestApp::spawn().await?;
    for (body, field) in [
        (
            json!({"price_method": "gp_lowest_base", "price_weight": "30", "bids": []}),
            "bids",
        ),
        (
            json!({"price_method": "gp_lowest_base", "price_weight": "130", "bids": [{"bidder": "A", "price": "1"}]}),
            "price_weight",
        ),
        (
            json!({"price_method": "gp_lowest_base", "price_weight": "30", "bids": [{"bidder": "A", "price": "-1"}]}),
            "bids[0].price",
        ),
        (
            json!({"price_method": "gp_lowest_base", "price_weight": "30", "bids": [{"bidder": "A", "price": "abc"}]}),
            "bids[0].price",
        ),
        (
            json!({"price_method": "mean_base", "price_weight": "30", "bids": [{"bidder": "A", "price": "1"}]}),
            "mean_base",
        ),
        (
            json!({"price_method": "lucky", "price_weight": "30", "bids": [{"bidder": "A", "price": "1"}]}),
            "price_method",
        ),
    ] {
        let res = app.post("/api/v1/scoring/simulate", &body, None).await?;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
        assert_eq!(problem["field"], field, "{body}");
    }
    Ok(())
}
