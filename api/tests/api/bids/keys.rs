//! Opening keys per lot and bidders' signing keys (docs/spec/envelope.md "Keys").

use super::*;
use tenderhall_domain::bid::keys::unwrap_opening_key;
use tenderhall_domain::id::{LotId, TenderId};

/// docs/spec/envelope.md "Keys": publication gives every lot an X25519 opening key, published with the
/// lot; its private half unwraps only at the deadline (server time), and every unwrap is audited.
#[tokio::test]
async fn every_lot_gets_an_opening_key_that_unwraps_only_after_the_deadline() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@keys.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "开标密钥", 21).await?;
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    let lot = &tender["lots"][0];
    let public = base64::engine::general_purpose::STANDARD
        .decode(text(&lot["opening_key"]["public_key"]))?;
    assert_eq!(public.len(), 32);
    assert_eq!(text(&lot["opening_key"]["key_id"]), key_id(&public));

    let deadline = app.state.now() + TimeDelta::days(21);
    let db = app.state.db();
    let (tender, lot) = (TenderId::parse(&id)?, LotId::parse("1")?);
    let early = unwrap_opening_key(
        db,
        app.state.master_key(),
        &tender,
        &lot,
        deadline,
        app.state.now(),
    )
    .await;
    assert!(
        matches!(
            early,
            Err(tenderhall_domain::DomainError::Refused {
                code: tenderhall_domain::error::ErrorCode::NotOpened,
                ..
            })
        ),
        "{early:?}"
    );
    app.clock.advance(TimeDelta::days(21));
    let secret = unwrap_opening_key(
        db,
        app.state.master_key(),
        &tender,
        &lot,
        deadline,
        app.state.now(),
    )
    .await?;
    assert_eq!(hpke::public_of(&secret).map(|p| p.to_vec()), Some(public));

    // The unwrap is on the tender's audit chain, which supervisors read; the refused attempt left
    // nothing.
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let audit: Value = app
        .get(&format!("/api/v1/tenders/{id}/audit"), Some(&supervisor))
        .await?
        .json()
        .await?;
    let unwraps = audit["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|e| e["action"] == "opening_key.unwrap")
                .count()
        })
        .unwrap_or_default();
    assert_eq!(unwraps, 1, "{audit}");
    Ok(())
}

/// docs/spec/envelope.md "Keys": a signing key revoked after a bid's receipt does not undo the bid.
#[tokio::test]
async fn a_signing_key_revoked_after_the_receipt_leaves_the_bid_to_open() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@keyrev.test", "tenderer").await?;
    let id = app
        .published_goods_tender(&owner, "吊销签名密钥", 21)
        .await?;
    let key = opening_key(&app, &id).await?;
    let mut first = None;
    for email in ["k1@keyrev.test", "k2@keyrev.test", "k3@keyrev.test"] {
        let b = bidder(&app, email, &id).await?;
        let res = put_bid(&app, &b, &id, sealed_bid(&b, &id, &key, "3000.00")?).await?;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        first.get_or_insert(b);
    }
    let first = first.ok_or_else(|| anyhow::anyhow!("no bidder"))?;
    let keys: Value = app
        .get(
            &format!("/api/v1/organizations/{}/signing-keys", first.org),
            Some(&first.token),
        )
        .await?
        .json()
        .await?;
    let key_id = text(&keys["items"][0]["key_id"]);
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/organizations/{}/signing-keys/{key_id}", first.org),
            Some(&first.token),
        )
        .send()
        .await?;
    assert!(res.status().is_success());
    app.clock.advance(TimeDelta::days(21));
    drain(&app).await?;
    let record: Value = opening_record(&app, &id).await?;
    let statuses: Vec<Value> = record["bids"]
        .as_array()
        .map(|b| b.iter().map(|l| l["status"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(statuses, vec![Value::from("opened"); 3], "{record}");
    Ok(())
}
