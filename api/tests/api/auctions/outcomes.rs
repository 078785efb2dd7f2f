//! The forms that end at once or never start (a dutch price taken at its first step, an english
//! auction nobody bids on), and what stays sealed until the result (docs/auctions.md
//! "Pseudonyms").

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::Value;

use super::calls::{accepted, again, refused};
use super::{auction_bidder, land_auction};
use crate::helpers::{TestApp, TestResult};

#[tokio::test]
async fn a_dutch_auction_taken_at_its_first_step_sells_at_once_and_one_with_no_bid_fails()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (seller, _) = app.member("land@tenderer.test", "tenderer").await?;
    let dutch = app
        .publish_tender(&seller, &land_auction(&app, "dutch", None))
        .await?;
    let silent = app
        .publish_tender(&seller, &land_auction(&app, "english", None))
        .await?;
    auction_bidder(&app, "a@bidder.test", &dutch, true).await?;
    app.clock.advance(Duration::days(21) + Duration::seconds(1));
    let [a] = again(&app, ["a@bidder.test"]).await?;
    app.drain().await?;
    // The clock's price is the start price in the first interval; a bid under it is refused.
    refused(
        &app,
        &a,
        &dutch,
        "999999",
        StatusCode::CONFLICT,
        "below_increment",
    )
    .await?;
    let taken = accepted(&app, &a, &dutch, "1000000").await?;
    assert!(taken["ends_at"].is_null(), "{taken}");
    app.drain().await?;
    let record: Value = app
        .get(
            &format!("/api/v1/tenders/{dutch}/lots/1/auction/record"),
            None,
        )
        .await?
        .json()
        .await?;
    assert_eq!(record["status"], "sold", "{record}");
    assert_eq!(record["final_price"], "1000000.00");
    assert!(record["reserve_price"].is_null());

    // The english auction nobody bid on fails with no_bids at its first countdown's end.
    app.clock.advance(Duration::seconds(60));
    app.drain().await?;
    let record: Value = app
        .get(
            &format!("/api/v1/tenders/{silent}/lots/1/auction/record"),
            None,
        )
        .await?
        .json()
        .await?;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["reason"], "no_bids");
    Ok(())
}

#[tokio::test]
async fn who_bid_stays_sealed_until_the_result_even_after_the_bid_deadline() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (seller, _) = app.member("land@tenderer.test", "tenderer").await?;
    let tender = app
        .publish_tender(&seller, &land_auction(&app, "english", None))
        .await?;
    let (_, a_org) = auction_bidder(&app, "a@bidder.test", &tender, true).await?;
    app.clock.advance(Duration::days(21) + Duration::seconds(1));
    app.drain().await?;
    let [a, seller] = again(&app, ["a@bidder.test", "land@tenderer.test"]).await?;
    accepted(&app, &a, &tender, "1000000").await?;
    // Who paid a deposit would name the bidders: the seller waits for the result.
    let deposits = format!("/api/v1/tenders/{tender}/lots/1/deposits");
    assert_eq!(
        app.get(&deposits, Some(&seller)).await?.status(),
        StatusCode::FORBIDDEN
    );
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let sealed = format!("/api/v1/tenders/{tender}/audit?chain=sealed");
    // The deadline has passed, but the auction goes on: the sealed chain, whose bid entries name
    // accounts, is still withheld, and nothing the public or the seller reads names the bidder.
    let during: Value = app.get(&sealed, Some(&supervisor)).await?.json().await?;
    assert_eq!(
        during["items"].as_array().map(Vec::len),
        Some(0),
        "{during}"
    );
    for (path, token) in [
        (format!("/api/v1/tenders/{tender}/lots/1/auction"), None),
        (
            format!("/api/v1/tenders/{tender}/lots/1/auction"),
            Some(seller.as_str()),
        ),
        (format!("/api/v1/tenders/{tender}"), None),
    ] {
        let body = app.get(&path, token).await?.text().await?;
        assert!(!body.contains(&a_org), "{path}: {body}");
    }
    app.clock.advance(Duration::seconds(60));
    app.drain().await?;
    let after: Value = app.get(&sealed, Some(&supervisor)).await?.json().await?;
    let actions: Vec<&str> = after["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"auction.bid"), "{after}");
    assert_eq!(
        app.get(&deposits, Some(&seller)).await?.status(),
        StatusCode::OK
    );
    Ok(())
}

#[tokio::test]
async fn a_dutch_auction_closed_before_the_deadline_job_ran_still_leaves_the_tender_awarded()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (seller, _) = app.member("land@tenderer.test", "tenderer").await?;
    let tender = app
        .publish_tender(&seller, &land_auction(&app, "dutch", None))
        .await?;
    auction_bidder(&app, "a@bidder.test", &tender, true).await?;
    // The clock passes the opening, but no job has run: the tender is not closed yet.
    app.clock.advance(Duration::days(21) + Duration::seconds(1));
    let [a] = again(&app, ["a@bidder.test"]).await?;
    accepted(&app, &a, &tender, "1000000").await?;
    let (tender_id, lot) = (
        tenderhall_domain::id::TenderId::parse(&tender)?,
        tenderhall_domain::id::LotId::parse("1")?,
    );
    // The close runs first (another worker took it), then the deadline job.
    let record = tenderhall_domain::auction::close(
        app.state.db(),
        app.state.master_key(),
        app.state.signer(),
        &tender_id,
        &lot,
        app.state.deposits().interest_rate,
        app.state.now(),
    )
    .await?;
    assert_eq!(record.map(|r| r["status"].clone()), Some("sold".into()));
    app.drain().await?;
    let view: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(view["lots"][0]["status"], "awarded", "{view}");
    assert_eq!(view["status"], "awarded", "{view}");
    Ok(())
}
