//! Electronic guarantees (电子保函) in place of a cash deposit, in government procurement only
//! (政府采购法实施条例 Art 33; docs/spec/rules.md "Money"): signed by a registered issuer over the document's
//! canonical JSON, covering the deposit through the bid validity period.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::TimeDelta;
use reqwest::StatusCode;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use tenderhall_domain::canonical::to_canonical_string;
use tenderhall_domain::id::RegistrationId;

use crate::helpers::{PASSWORD, TestApp, TestResult, assert_problem, text};

fn issuer_key() -> anyhow::Result<Ed25519KeyPair> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| anyhow::anyhow!("keygen"))?;
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| anyhow::anyhow!("key"))
}

fn signed(key: &Ed25519KeyPair, document: &Value) -> Value {
    let signature = key.sign(to_canonical_string(document).as_bytes());
    json!({"document": document, "signature": BASE64.encode(signature.as_ref())})
}

#[tokio::test]
async fn a_registered_issuers_guarantee_stands_in_for_the_deposit_in_government_procurement()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    let key = issuer_key()?;
    let res = app
        .post(
            "/api/v1/guarantee-issuers",
            &json!({"name": "某某银行", "public_key": BASE64.encode(key.public_key().as_ref())}),
            Some(&operator),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let issuer_id = text(&res.json::<Value>().await?["issuer_id"]);

    let (owner, _) = app.member("owner@gtee.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@gtee.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "保函测试", 21).await?;
    let reg: Value = app
        .post(
            &format!("/api/v1/tenders/{id}/lots/1/registrations"),
            &json!({}),
            Some(&bidder),
        )
        .await?
        .json()
        .await?;
    let reg_id = text(&reg["registration_id"]);
    let path = format!("/api/v1/tenders/{id}/lots/1/registrations/{reg_id}/guarantee");
    // Valid through the deadline and the 90-day bid validity.
    let until = app.state.now() + TimeDelta::days(21 + 91);
    let document = json!({
        "guarantee_no": "BH-2026-0001", "issuer_id": issuer_id, "registration_id": reg_id,
        "amount": "2000.00", "currency": "CNY", "valid_until": until.to_rfc3339(),
        "beneficiary": "保函测试招标人",
    });

    // Refused: altered after signing, too small, too short, an unknown issuer.
    let mut altered = signed(&key, &document);
    altered["document"]["amount"] = json!("20000.00");
    let mut small = document.clone();
    small["amount"] = json!("1999.99");
    let mut short = document.clone();
    short["valid_until"] = json!((app.state.now() + TimeDelta::days(30)).to_rfc3339());
    let stranger = issuer_key()?;
    for (body, what) in [
        (altered, "signature"),
        (signed(&key, &small), "amount"),
        (signed(&key, &short), "validity"),
        (signed(&stranger, &document), "unknown key"),
    ] {
        let problem = assert_problem(
            app.post(&path, &body, Some(&bidder)).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "guarantee_invalid",
        )
        .await?;
        assert!(!text(&problem["detail"]).is_empty(), "{what}");
    }

    let res = app
        .post(&path, &signed(&key, &document), Some(&bidder))
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_problem(
        app.post(&path, &signed(&key, &document), Some(&bidder))
            .await?,
        StatusCode::CONFLICT,
        "guarantee_exists",
    )
    .await?;

    app.clock.advance(TimeDelta::days(21));
    let owner = app.sign_in("owner@gtee.test", PASSWORD).await?;
    let view: Value = app
        .get(
            &format!("/api/v1/tenders/{id}/lots/1/deposits"),
            Some(&owner),
        )
        .await?
        .json()
        .await?;
    assert_eq!(view["items"][0]["status"], "guarantee");
    assert_eq!(
        tenderhall_domain::deposit::service::deposit_status(
            app.state.db(),
            &RegistrationId::parse(&reg_id)?
        )
        .await?
        .as_str(),
        "guarantee"
    );
    Ok(())
}

#[tokio::test]
async fn a_construction_tender_takes_its_deposit_in_cash() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@cash.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@cash.test", "bidder").await?;
    let body = json!({
        "title": "施工", "kind": "construction", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
        "lots": [{"id": "1", "title": "标段一", "budget": "1000000", "deposit": "20000"}],
        "bid_deadline": (app.state.now() + TimeDelta::days(21)).to_rfc3339(),
    });
    let id = app.publish_tender(&owner, &body).await?;
    let reg: Value = app
        .post(
            &format!("/api/v1/tenders/{id}/lots/1/registrations"),
            &json!({}),
            Some(&bidder),
        )
        .await?
        .json()
        .await?;
    let reg_id = text(&reg["registration_id"]);
    let key = issuer_key()?;
    let document = json!({"guarantee_no": "X", "issuer_id": "x", "registration_id": reg_id,
        "amount": "20000.00", "valid_until": "2030-01-01T00:00:00Z"});
    assert_problem(
        app.post(
            &format!("/api/v1/tenders/{id}/lots/1/registrations/{reg_id}/guarantee"),
            &signed(&key, &document),
            Some(&bidder),
        )
        .await?,
        StatusCode::CONFLICT,
        "guarantee_not_allowed",
    )
    .await?;
    Ok(())
}
