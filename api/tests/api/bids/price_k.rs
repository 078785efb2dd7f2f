//! K of the mean-base price formula (docs/spec/evaluation.md "K"; docs/spec/rules.md "Experts and
//! evaluation", construction base price *(local)*): committed at publication, drawn at the opening
//! from the published range, re-checkable by anyone from the revealed record.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tenderhall_domain::evaluation::k::{self, KDraw};

use super::{bidder, drain, opening_key, opening_record, put_bid, sealed_bid};
use crate::helpers::{TestApp, TestResult, text};

fn works_with_k(app: &TestApp) -> Value {
    json!({
        "title": "道路工程 K 值", "kind": "construction", "procedure": "open_tender",
        "award_method": "comprehensive_scoring",
        "lots": [{"id": "1", "title": "一标段", "budget": "100000", "deposit": "2000"}],
        "bid_deadline": (app.state.now() + TimeDelta::days(21)).to_rfc3339(),
        "evaluation": {
            "method": "comprehensive_scoring",
            "compliance": [{"id": "licence", "title": "资质证书有效"}],
            "criteria": [
                {"id": "price", "title": "投标报价", "weight": "60", "type": "price"},
                {"id": "plan", "title": "施工组织设计", "weight": "40", "type": "subjective",
                 "range": {"min": "0", "max": "40"}}
            ],
            "price": {"method": "mean_base", "mean_base": {
                "drop_highest": 1, "drop_lowest": 1, "k_min": "0.01", "k_max": "0.03",
                "e_above": "1", "e_below": "0.5"}}
        }
    })
}

#[tokio::test]
async fn k_is_committed_at_publication_and_drawn_at_the_opening_from_the_record() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@k.test", "tenderer").await?;
    let id = app.publish_tender(&owner, &works_with_k(&app)).await?;
    let path = format!("/api/v1/tenders/{id}/lots/1/price-k");

    // Before the deadline: the commitment and the range, nothing that tells K.
    let before: Value = app.get(&path, None).await?.json().await?;
    assert_eq!(text(&before["commitment"]).len(), 64, "{before}");
    assert_eq!(before["range"]["min"], "0.01");
    assert_eq!(before["range"]["max"], "0.03");
    assert!(before["secret"].is_null() && before["k"].is_null());

    let key = opening_key(&app, &id).await?;
    for (i, email) in ["a@k.test", "b@k.test", "c@k.test"].into_iter().enumerate() {
        let b = bidder(&app, email, &id).await?;
        let res = put_bid(
            &app,
            &b,
            &id,
            sealed_bid(&b, &id, &key, &format!("9{i}000.00"))?,
        )
        .await?;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    app.clock.advance(TimeDelta::days(21));
    drain(&app).await?;
    let record = opening_record(&app, &id).await?;
    assert_eq!(record["status"], "opened");

    let after: Value = app.get(&path, None).await?.json().await?;
    assert_eq!(
        after["commitment"], before["commitment"],
        "the commitment stands"
    );
    assert_eq!(
        text(&after["public_input"]),
        k::public_input(&tenderhall_domain::canonical::to_canonical_string(&record)),
        "the public input is the signed opening record's digest"
    );
    let draw: KDraw = serde_json::from_value(after.clone())?;
    assert_eq!(
        k::verify(&draw),
        Ok(()),
        "anyone re-checks K from the record"
    );
    let value: rust_decimal::Decimal = text(&after["k"]).parse()?;
    assert!(
        value >= "0.01".parse()? && value <= "0.03".parse()?,
        "{value}"
    );
    // Signed by the platform like the opening record.
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    let public = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        text(&keys["receipt_key"]["public_key"]),
    )?;
    let mut unsigned = after.clone();
    let signature = text(&unsigned["signature"]);
    unsigned.as_object_mut().map(|o| o.remove("signature"));
    let message = tenderhall_domain::canonical::to_canonical_string(&unsigned);
    assert!(tenderhall_domain::keys::verify_ed25519(
        &public,
        message.as_bytes(),
        &signature
    ));
    // A changed K does not check.
    let mut changed = draw;
    changed.k = if value == "0.03".parse()? {
        "0.01".parse()?
    } else {
        value + rust_decimal::Decimal::new(1, 3)
    };
    assert_eq!(k::verify(&changed), Err(k::KMismatch::Value));
    Ok(())
}

#[tokio::test]
async fn a_lot_whose_formula_has_no_k_draws_none() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@nok.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "无 K", 21).await?;
    let res = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/price-k"), None)
        .await?;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    Ok(())
}
