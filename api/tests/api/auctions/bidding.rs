//! Bidding and the close (docs/auctions.md; docs/spec/rules.md "Auctions"): bids decided in order
//! against the server's clock, the countdown restarted by each bid, the close by the chronograph,
//! the reserve revealed, the signed record, the deposits settled.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::calls::{accepted, again, at, auction, refunds_of, refused};
use super::{assert_platform_signed, auction_bidder, land_auction, land_listing};
use crate::helpers::{TestApp, TestResult, assert_problem};

#[tokio::test]
async fn an_english_auction_takes_bids_in_order_restarts_its_countdown_and_sells_at_its_end()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (seller, seller_org) = app.member("land@tenderer.test", "tenderer").await?;
    let tender = app
        .publish_tender(&seller, &land_auction(&app, "english", Some("1015000")))
        .await?;
    let (early, a_org) = auction_bidder(&app, "a@bidder.test", &tender, true).await?;
    let (_, b_org) = auction_bidder(&app, "b@bidder.test", &tender, true).await?;
    auction_bidder(&app, "c@bidder.test", &tender, false).await?;

    // Before the bid deadline the auction has not opened.
    refused(
        &app,
        &early,
        &tender,
        "1000000",
        StatusCode::CONFLICT,
        "not_started",
    )
    .await?;
    app.clock.advance(Duration::days(21) + Duration::seconds(1));
    // Sessions last hours: everyone signs in again on the auction's day.
    let [seller, a, b, c] = again(
        &app,
        [
            "land@tenderer.test",
            "a@bidder.test",
            "b@bidder.test",
            "c@bidder.test",
        ],
    )
    .await?;
    app.drain().await?;
    // The deadline opened no sealed bids for an auction lot: there is no opening record.
    let res = app
        .get(&format!("/api/v1/tenders/{tender}/lots/1/opening"), None)
        .await?;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let view = auction(&app, &tender, None).await?;
    assert_eq!(view["status"], "bidding", "{view}");
    assert_eq!(view["next_valid"], "1000000.00");

    // Only a registered bidder with its deposit paid bids; a seller is no bidder.
    refused(
        &app,
        &c,
        &tender,
        "1000000",
        StatusCode::FORBIDDEN,
        "not_eligible",
    )
    .await?;
    refused(
        &app,
        &seller,
        &tender,
        "1000000",
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    refused(
        &app,
        &a,
        &tender,
        "abc",
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;
    refused(
        &app,
        &a,
        &tender,
        "1000000.001",
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;
    refused(
        &app,
        &a,
        &tender,
        "999999",
        StatusCode::CONFLICT,
        "below_increment",
    )
    .await?;

    let first = accepted(&app, &a, &tender, "1000000").await?;
    assert_eq!(first["seq"], 1);
    assert_eq!(first["pseudonym"], "A001");
    refused(
        &app,
        &a,
        &tender,
        "1010000",
        StatusCode::CONFLICT,
        "already_leading",
    )
    .await?;
    // Ties go to the earlier bid: the same amount, or less than an increment more, loses.
    refused(
        &app,
        &b,
        &tender,
        "1000000",
        StatusCode::CONFLICT,
        "below_increment",
    )
    .await?;
    refused(
        &app,
        &b,
        &tender,
        "1009999.99",
        StatusCode::CONFLICT,
        "below_increment",
    )
    .await?;
    let second = accepted(&app, &b, &tender, "1010000").await?;
    assert_eq!(
        (second["seq"].clone(), second["pseudonym"].clone()),
        (json!(2), json!("A002"))
    );

    // A bid one millisecond before the countdown's end is taken and restarts it.
    let ends = at(&second["ends_at"])?;
    assert_eq!(ends, at(&second["accepted_at"])? + Duration::seconds(60));
    app.clock.set(ends - Duration::milliseconds(1));
    app.drain().await?;
    let third = accepted(&app, &a, &tender, "1020000").await?;
    let ends = at(&third["ends_at"])?;
    assert_eq!(ends, app.state.now() + Duration::seconds(60));

    // Everyone sees pseudonyms only, before the result.
    for token in [None, Some(seller.as_str()), Some(b.as_str())] {
        let body = app
            .get(&format!("/api/v1/tenders/{tender}/lots/1/auction"), token)
            .await?
            .text()
            .await?;
        for secret in [&a_org, &b_org, "a@bidder.test", "1015000"] {
            assert!(!body.contains(secret), "{secret} in {body}");
        }
    }
    let view = auction(&app, &tender, Some(&b)).await?;
    assert_eq!(view["leader"], "A001");
    assert_eq!(view["you"], "A002");
    assert_eq!(view["current_price"]["amount"], "1020000.00");
    assert_eq!(view["next_valid"], "1030000.00");
    let seqs: Vec<i64> = view["bids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    let res = app
        .get(
            &format!("/api/v1/tenders/{tender}/lots/1/auction/record"),
            None,
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // At the countdown's end exactly the auction is over, whether or not the close has run.
    app.clock.set(ends);
    refused(
        &app,
        &b,
        &tender,
        "1030000",
        StatusCode::CONFLICT,
        "auction_closed",
    )
    .await?;
    app.drain().await?;
    let record: Value = app
        .get(
            &format!("/api/v1/tenders/{tender}/lots/1/auction/record"),
            None,
        )
        .await?
        .json()
        .await?;
    assert_eq!(record["status"], "sold", "{record}");
    assert_eq!(record["final_price"], "1020000.00");
    assert_eq!(record["reserve_price"], "1015000.00");
    assert_eq!(record["winner"]["pseudonym"], "A001");
    assert_eq!(record["winner"]["bidder_id"], a_org.as_str());
    assert_eq!(at(&record["ended_at"])?, ends);
    assert_eq!(record["bids"].as_array().map(Vec::len), Some(3));
    assert_platform_signed(&app, &record).await?;
    // A bid after the close is still auction_closed; the close does not happen twice.
    refused(
        &app,
        &b,
        &tender,
        "1030000",
        StatusCode::CONFLICT,
        "auction_closed",
    )
    .await?;
    app.clock.advance(Duration::minutes(5));
    app.drain().await?;
    let again: Value = app
        .get(
            &format!("/api/v1/tenders/{tender}/lots/1/auction/record"),
            None,
        )
        .await?
        .json()
        .await?;
    assert_eq!(again, record);
    let view = auction(&app, &tender, None).await?;
    assert_eq!(view["status"], "sold");

    // The confirmation of the sale: the buyer and the seller read it, another bidder does not.
    let confirmation = format!("/api/v1/tenders/{tender}/lots/1/auction/confirmation");
    let mine: Value = app.get(&confirmation, Some(&a)).await?.json().await?;
    assert_eq!(mine["title"], "成交确认书");
    assert_eq!(mine["price"], "1020000.00");
    assert_eq!(mine["seller_id"], seller_org.as_str());
    assert_platform_signed(&app, &mine).await?;
    assert_eq!(
        app.get(&confirmation, Some(&seller)).await?.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&confirmation, Some(&b)).await?.status(),
        StatusCode::NOT_FOUND
    );

    // The lot is awarded, the winner's deposit kept toward the price, the other's refund booked.
    let view: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(view["lots"][0]["status"], "awarded");
    assert_eq!(view["status"], "awarded");
    app.assert_ledger_sound().await?;
    let refunds = refunds_of(&app, &tender).await?;
    let items = refunds["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{refunds}");
    assert_eq!(items[0]["reason"], "lost", "{refunds}");
    assert_eq!(items[0]["organization_id"], b_org.as_str(), "{refunds}");
    Ok(())
}

#[tokio::test]
async fn a_listing_with_two_bidders_goes_to_a_timed_round_and_fails_under_the_reserve() -> TestResult
{
    let app = TestApp::spawn_sandbox().await?;
    let (seller, _) = app.member("land@tenderer.test", "tenderer").await?;
    let tender = app
        .publish_tender(&seller, &land_listing(&app, 21, 10))
        .await?;
    for email in ["a@bidder.test", "b@bidder.test", "c@bidder.test"] {
        auction_bidder(&app, email, &tender, true).await?;
    }
    let increment = format!("/api/v1/tenders/{tender}/lots/1/auction/increment");
    app.clock.advance(Duration::days(21) + Duration::hours(1));
    let [seller, a, b, _] = again(
        &app,
        [
            "land@tenderer.test",
            "a@bidder.test",
            "b@bidder.test",
            "c@bidder.test",
        ],
    )
    .await?;
    app.drain().await?;
    assert_eq!(auction(&app, &tender, None).await?["status"], "listing");
    accepted(&app, &a, &tender, "1000000").await?;
    // The seller raises the step mid-listing (audited); the next bid needs it.
    let res = app
        .request(reqwest::Method::PUT, &increment, Some(&seller))
        .json(&json!({"increment": "20000"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    refused(
        &app,
        &b,
        &tender,
        "1010000",
        StatusCode::CONFLICT,
        "below_increment",
    )
    .await?;
    accepted(&app, &b, &tender, "1020000").await?;
    // A bidder may not change the step.
    let res = app
        .request(reqwest::Method::PUT, &increment, Some(&a))
        .json(&json!({"increment": "1"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The listing ends with two bidders: a timed round among them, from the highest bid plus one step.
    let listing_end = at(&auction(&app, &tender, None).await?["ends_at"])?;
    app.clock.set(listing_end + Duration::seconds(1));
    let [seller, a, c] = again(
        &app,
        ["land@tenderer.test", "a@bidder.test", "c@bidder.test"],
    )
    .await?;
    app.drain().await?;
    let view = auction(&app, &tender, None).await?;
    assert_eq!(view["status"], "timed_round", "{view}");
    assert_eq!(view["next_valid"], "1040000.00");
    refused(
        &app,
        &c,
        &tender,
        "1040000",
        StatusCode::FORBIDDEN,
        "not_eligible",
    )
    .await?;
    // The step is fixed from the timed round on.
    let res = app
        .request(reqwest::Method::PUT, &increment, Some(&seller))
        .json(&json!({"increment": "5000"}))
        .send()
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "auction_closed").await?;
    accepted(&app, &a, &tender, "1040000").await?;

    // Nobody answers within the countdown; 1,040,000 is under the 1,200,000 reserve.
    app.clock.advance(Duration::seconds(61));
    app.drain().await?;
    let record: Value = app
        .get(
            &format!("/api/v1/tenders/{tender}/lots/1/auction/record"),
            None,
        )
        .await?
        .json()
        .await?;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["reason"], "reserve_not_met");
    assert_eq!(record["reserve_price"], "1200000.00");
    assert!(record["winner"].is_null());
    let view: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(view["lots"][0]["status"], "failed");
    // Every deposit goes back.
    let refunds = refunds_of(&app, &tender).await?;
    assert_eq!(
        refunds["items"].as_array().map(Vec::len),
        Some(3),
        "{refunds}"
    );
    app.assert_ledger_sound().await?;
    Ok(())
}
