//! The live view (docs/auctions.md "Live"; docs/spec/api-contract.md "Auctions"): a WebSocket that
//! sends the state first, then every accepted bid once and in order, and the status changes; a
//! client that reconnects with the last number it has misses nothing and gets nothing twice.

use std::time::Duration as StdDuration;

use chrono::Duration;
use futures_util::StreamExt as _;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use super::{auction_bidder, land_auction};
use crate::helpers::{TestApp, TestResult, text};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, tender: &str, after: Option<i64>) -> anyhow::Result<Socket> {
    let base = app.base.replacen("http://", "ws://", 1);
    let query = after.map(|n| format!("?after={n}")).unwrap_or_default();
    let url = format!("{base}/api/v1/tenders/{tender}/lots/1/auction/live{query}");
    let (socket, _) = tokio_tungstenite::connect_async(url).await?;
    Ok(socket)
}

/// The next JSON message, within 10 seconds.
async fn next(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        let message = tokio::time::timeout(StdDuration::from_secs(10), socket.next())
            .await
            .map_err(|_| anyhow::anyhow!("no message within 10 seconds"))?
            .ok_or_else(|| anyhow::anyhow!("the socket closed"))??;
        if let Message::Text(text) = message {
            return Ok(serde_json::from_str(text.as_str())?);
        }
    }
}

/// The next message of `kind`, skipping others (status messages come as the clock moves).
async fn next_of(socket: &mut Socket, kind: &str) -> anyhow::Result<Value> {
    loop {
        let message = next(socket).await?;
        if message["type"] == kind {
            return Ok(message);
        }
    }
}

async fn bid(app: &TestApp, token: &str, tender: &str, amount: &str) -> anyhow::Result<()> {
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/auction/bids"),
            &serde_json::json!({"amount": amount}),
            Some(token),
        )
        .await?;
    anyhow::ensure!(
        res.status() == reqwest::StatusCode::CREATED,
        "bid {amount}: {}",
        res.text().await?
    );
    Ok(())
}

#[tokio::test]
async fn watchers_get_the_state_first_then_each_bid_once_in_order_and_a_reconnect_misses_none()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (seller, _) = app.member("land@tenderer.test", "tenderer").await?;
    let tender = app
        .publish_tender(&seller, &land_auction(&app, "english", None))
        .await?;
    auction_bidder(&app, "a@bidder.test", &tender, true).await?;
    auction_bidder(&app, "b@bidder.test", &tender, true).await?;
    app.clock.advance(Duration::days(21) + Duration::seconds(1));
    app.drain().await?;
    let a = app
        .sign_in("a@bidder.test", crate::helpers::PASSWORD)
        .await?;
    let b = app
        .sign_in("b@bidder.test", crate::helpers::PASSWORD)
        .await?;

    // An unknown auction is a 404 before any upgrade.
    let missing =
        app.base.replacen("http://", "ws://", 1) + "/api/v1/tenders/tnd_nope/lots/1/auction/live";
    assert!(tokio_tungstenite::connect_async(missing).await.is_err());

    // A plain GET is told it is a WebSocket, as a problem.
    crate::helpers::assert_problem(
        app.get(
            &format!("/api/v1/tenders/{tender}/lots/1/auction/live"),
            None,
        )
        .await?,
        reqwest::StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await?;
    let mut first = connect(&app, &tender, None).await?;
    let state = next(&mut first).await?;
    assert_eq!(state["type"], "state", "{state}");
    assert_eq!(state["status"], "bidding");
    assert_eq!(state["last_seq"], 0);

    bid(&app, &a, &tender, "1000000").await?;
    bid(&app, &b, &tender, "1010000").await?;
    let one = next_of(&mut first, "bid").await?;
    let two = next_of(&mut first, "bid").await?;
    assert_eq!(
        (one["seq"].as_i64(), two["seq"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(one["pseudonym"], "A001");
    assert_eq!(two["amount"], "1010000.00");

    // A client that had bid 1 reconnects: the state, then bid 2, then what comes next, once each.
    let mut second = connect(&app, &tender, Some(1)).await?;
    let state = next(&mut second).await?;
    assert_eq!(state["type"], "state");
    assert_eq!(state["last_seq"], 2);
    assert_eq!(state["bids"].as_array().map(Vec::len), Some(0), "{state}");
    let replayed = next_of(&mut second, "bid").await?;
    assert_eq!(replayed["seq"], 2);
    bid(&app, &a, &tender, "1020000").await?;
    for socket in [&mut first, &mut second] {
        let three = next_of(socket, "bid").await?;
        assert_eq!(three["seq"], 3, "{three}");
        assert_eq!(three["pseudonym"], "A001");
    }

    // The countdown's end reaches watchers as a status change, then the close's result.
    let ends = text(&state["ends_at"]);
    assert!(!ends.is_empty());
    app.clock.advance(Duration::seconds(61));
    let ended = next_of(&mut first, "status").await?;
    assert_eq!(ended["status"], "ended", "{ended}");
    app.drain().await?;
    let sold = next_of(&mut first, "status").await?;
    assert_eq!(sold["status"], "sold", "{sold}");
    assert_eq!(sold["current_price"], "1020000.00");
    // Nothing was sent twice: the next bid message would be a fourth, and there is none.
    let more =
        tokio::time::timeout(StdDuration::from_millis(600), next_of(&mut second, "bid")).await;
    assert!(more.is_err(), "a bid message after the close: {more:?}");
    Ok(())
}
