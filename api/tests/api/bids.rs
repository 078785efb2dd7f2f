//! Sealed bids (SEALED_BIDS.md, API.md "Registration, bids and the opening"): opening keys per lot,
//! sealed to at publication and unwrapped only at the deadline.

use base64::Engine as _;
use chrono::TimeDelta;
use serde_json::Value;
use tenderhall_domain::bid::hpke;
use tenderhall_domain::bid::keys::unwrap_opening_key;
use tenderhall_domain::keys::key_id;

use crate::helpers::{TestApp, TestResult, text};

/// SEALED_BIDS.md "Keys": publication gives every lot an X25519 opening key, published with the
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
    let early = unwrap_opening_key(
        db,
        app.state.master_key(),
        &id,
        "1",
        deadline,
        app.state.now(),
    )
    .await;
    assert!(
        matches!(
            early,
            Err(tenderhall_domain::DomainError::Conflict {
                code: "not_opened",
                ..
            })
        ),
        "{early:?}"
    );
    app.clock.advance(TimeDelta::days(21));
    let secret = unwrap_opening_key(
        db,
        app.state.master_key(),
        &id,
        "1",
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
