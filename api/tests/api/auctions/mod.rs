//! Live auctions (docs/auctions.md): the terms a seller publishes, the sealed reserve, bidding,
//! the close and its record; and the helpers their tests share.

mod bidding;
mod calls;
mod live;
mod outcomes;
mod terms;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, text};

/// A land-use auction (拍卖) of one parcel in `form`, announced 21 days ahead, bidding from the
/// bid deadline with a 60-second countdown, deposit 200,000.
pub fn land_auction(app: &TestApp, form: &str, reserve: Option<&str>) -> Value {
    let opens: DateTime<Utc> = app.state.now() + Duration::days(21);
    let mut terms = json!({
        "form": form, "start_price": "1000000", "increment": "10000", "countdown_seconds": 60,
    });
    if let Some(reserve) = reserve {
        terms["reserve_price"] = json!(reserve);
    }
    json!({
        "title": "城西地块国有建设用地使用权拍卖出让",
        "kind": "land_use",
        "procedure": "auction",
        "award_method": "highest_price",
        "lots": [{"id": "1", "title": "城西 B-7 地块", "budget": "1000000", "deposit": "200000", "auction": terms}],
        "bid_deadline": opens.to_rfc3339(),
    })
}

/// A bidder organization registered for lot 1; with `pay`, its deposit paid through the sandbox
/// bank. Answers (token, organization id).
pub async fn auction_bidder(
    app: &TestApp,
    email: &str,
    tender: &str,
    pay: bool,
) -> anyhow::Result<(String, String)> {
    let (token, org) = app.member(email, "bidder").await?;
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/registrations"),
            &json!({}),
            Some(&token),
        )
        .await?;
    anyhow::ensure!(res.status() == StatusCode::CREATED, "registration");
    let registration: Value = res.json().await?;
    if pay {
        let paid: Value = app
            .post(
                "/api/v1/sandbox/bank/pay",
                &json!({"account_no": text(&registration["deposit_account"]["account_no"]), "amount": "200000.00"}),
                None,
            )
            .await?
            .json()
            .await?;
        anyhow::ensure!(paid["status"] == "credited", "payment: {paid}");
    }
    Ok((token, org))
}

/// Fails unless `document` is signed by the platform's receipt key over the canonical JSON of the
/// rest.
pub async fn assert_platform_signed(app: &TestApp, document: &Value) -> anyhow::Result<()> {
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    let platform = base64::engine::general_purpose::STANDARD
        .decode(text(&keys["receipt_key"]["public_key"]))?;
    let mut unsigned = document.clone();
    unsigned.as_object_mut().map(|o| o.remove("signature"));
    anyhow::ensure!(
        tenderhall_domain::keys::verify_ed25519(
            &platform,
            tenderhall_domain::canonical::to_canonical_string(&unsigned).as_bytes(),
            &text(&document["signature"])
        ),
        "the signature does not verify: {document}"
    );
    Ok(())
}

/// A land-use listing (挂牌) of one parcel: announced `days` ahead (the 20 days of
/// docs/spec/rules.md), listed for `listing_days` after that, reserve 1,200,000.
pub fn land_listing(app: &TestApp, days: i64, listing_days: i64) -> Value {
    let opens: DateTime<Utc> = app.state.now() + Duration::days(days);
    json!({
        "title": "城东地块国有建设用地使用权挂牌出让",
        "kind": "land_use",
        "procedure": "listing",
        "award_method": "highest_price",
        "region": "330100",
        "lots": [{
            "id": "1", "title": "城东 A-3 地块", "budget": "1000000", "deposit": "200000",
            "auction": {
                "form": "listing", "start_price": "1000000", "increment": "10000",
                "reserve_price": "1200000", "countdown_seconds": 60,
                "listing_end": (opens + Duration::days(listing_days)).to_rfc3339(),
            }
        }],
        "bid_deadline": opens.to_rfc3339(),
    })
}
