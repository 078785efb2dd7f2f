//! Live auctions on the real binary (docs/auctions.md): two `serve` processes and a `worker` on one
//! database, bidders bidding as fast as they can through both, watchers on both; and the process
//! holding an auction killed mid-countdown.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tenderhall_e2e::api::Api;
use tenderhall_e2e::{Server, Site};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

/// Publishes an accelerated english land auction opening at `opens`, countdown `countdown`
/// seconds (real time), start 100,000, step 100, deposit 1,000.
async fn publish_auction(
    client: &reqwest::Client,
    base: &str,
    seller: &str,
    opens: DateTime<Utc>,
    countdown: u32,
) -> anyhow::Result<String> {
    let body = json!({
        "title": "竞价测试地块", "kind": "land_use", "procedure": "auction", "award_method": "highest_price",
        "lots": [{"id": "1", "title": "地块", "budget": "100000", "deposit": "1000",
                  "auction": {"form": "english", "start_price": "100000", "increment": "100", "countdown_seconds": countdown}}],
        "bid_deadline": opens.to_rfc3339(), "accelerator": 1_000_000
    });
    let created: Value = client
        .post(format!("{base}/api/v1/tenders"))
        .bearer_auth(seller)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let res = client
        .post(format!("{base}/api/v1/tenders/{id}/publish"))
        .bearer_auth(seller)
        .json(&json!({}))
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::OK,
        "publish: {}",
        res.text().await?
    );
    Ok(id)
}

/// Registers `token`'s organization for lot 1 and pays its deposit through the sandbox bank.
async fn register_and_pay(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    tender: &str,
) -> anyhow::Result<()> {
    let registration: Value = client
        .post(format!(
            "{base}/api/v1/tenders/{tender}/lots/1/registrations"
        ))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await?
        .json()
        .await?;
    let account = registration["deposit_account"]["account_no"]
        .as_str()
        .unwrap_or_default();
    let paid: Value = client
        .post(format!("{base}/api/v1/sandbox/bank/pay"))
        .json(&json!({"account_no": account, "amount": "1000.00"}))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(paid["status"] == "credited", "payment: {paid}");
    Ok(())
}

/// Collects a watcher's bid numbers until the auction's result comes.
async fn watch(base: String, tender: String) -> anyhow::Result<Vec<i64>> {
    let url = format!(
        "{}/api/v1/tenders/{tender}/lots/1/auction/live",
        base.replacen("http://", "ws://", 1)
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    let mut seqs = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(120), socket.next())
            .await
            .map_err(|_| anyhow::anyhow!("the watcher heard nothing for two minutes"))?
            .ok_or_else(|| anyhow::anyhow!("the socket closed"))??;
        let Message::Text(text) = message else {
            continue;
        };
        let message: Value = serde_json::from_str(text.as_str())?;
        match message["type"].as_str() {
            Some("bid") => seqs.push(message["seq"].as_i64().unwrap_or_default()),
            Some("status") if matches!(message["status"].as_str(), Some("sold" | "failed")) => {
                return Ok(seqs);
            }
            _ => {}
        }
    }
}

async fn wait_for_record(
    client: &reqwest::Client,
    base: &str,
    tender: &str,
    within: Duration,
) -> anyhow::Result<Value> {
    let started = Instant::now();
    loop {
        let res = client
            .get(format!(
                "{base}/api/v1/tenders/{tender}/lots/1/auction/record"
            ))
            .send()
            .await?;
        if res.status() == StatusCode::OK {
            return Ok(res.json().await?);
        }
        anyhow::ensure!(
            started.elapsed() < within,
            "no auction record within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn count(url: &str, sql: &str) -> anyhow::Result<i64> {
    let db = Database::connect(url).await?;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// An acknowledged bid as its bidder heard it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Ack {
    seq: i64,
    amount: String,
    pseudonym: String,
}

#[tokio::test]
async fn fifty_bidders_through_two_servers_give_one_sequence_one_close_and_the_same_live_view()
-> anyhow::Result<()> {
    let site = Site::new().await?;
    let (ok, out, err) = site.run(&["migrate"]).await?;
    anyhow::ensure!(ok, "migrate: {out}{err}");
    let servers = [
        site.serve(&["--sandbox"]).await?,
        site.serve(&["--sandbox"]).await?,
    ];
    let mut worker = site.worker(&[("TENDERHALL_JOB_POLL_SECONDS", "1")]).await?;
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let client = reqwest::Client::new();

    let api = |i: usize| Api {
        server: &servers[i % 2],
        client: client.clone(),
    };
    let (seller, _) = api(0).member("seller@auction.test", "tenderer").await?;
    let mut bidders = Vec::new();
    for i in 0..50 {
        let (token, _) = api(i)
            .member(&format!("b{i}@auction.test"), "bidder")
            .await?;
        bidders.push(token);
    }
    let opens = Utc::now() + chrono::Duration::seconds(10);
    let tender = publish_auction(&client, &bases[0], &seller, opens, 10).await?;
    for (i, token) in bidders.iter().enumerate() {
        register_and_pay(&client, &bases[i % 2], token, &tender).await?;
    }
    let watchers: Vec<_> = bases
        .iter()
        .map(|b| tokio::spawn(watch(b.clone(), tender.clone())))
        .collect();
    let wait = (opens - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(200)).await;

    // Everyone bids the next valid amount as fast as it can, for five seconds, through its server.
    let acks = Arc::new(Mutex::new(Vec::<Ack>::new()));
    let refused = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let stop = Instant::now() + Duration::from_secs(5);
    let mut tasks = Vec::new();
    for (i, token) in bidders.iter().enumerate() {
        let (client, base, token, tender) = (
            client.clone(),
            bases[i % 2].clone(),
            token.clone(),
            tender.clone(),
        );
        let (acks, refused) = (acks.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < stop {
                let view: Value = client
                    .get(format!("{base}/api/v1/tenders/{tender}/lots/1/auction"))
                    .send()
                    .await?
                    .json()
                    .await?;
                let Some(next) = view["next_valid"].as_str() else {
                    break;
                };
                let res = client
                    .post(format!(
                        "{base}/api/v1/tenders/{tender}/lots/1/auction/bids"
                    ))
                    .bearer_auth(&token)
                    .json(&json!({"amount": next}))
                    .send()
                    .await?;
                let status = res.status();
                let body: Value = res.json().await?;
                if status == StatusCode::CREATED {
                    acks.lock().await.push(Ack {
                        seq: body["seq"].as_i64().unwrap_or_default(),
                        amount: body["amount"].as_str().unwrap_or_default().to_owned(),
                        pseudonym: body["pseudonym"].as_str().unwrap_or_default().to_owned(),
                    });
                } else {
                    anyhow::ensure!(status == StatusCode::CONFLICT, "{status}: {body}");
                    *refused
                        .lock()
                        .await
                        .entry(body["code"].as_str().unwrap_or_default().to_owned())
                        .or_default() += 1;
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let mut acks = acks.lock().await.clone();
    acks.sort();
    // Throughput is the benchmark's business (bench/auction.sh); here enough bids to interleave.
    anyhow::ensure!(acks.len() >= 10, "only {} bids acknowledged", acks.len());
    let bidders_heard: std::collections::BTreeSet<&str> =
        acks.iter().map(|a| a.pseudonym.as_str()).collect();
    anyhow::ensure!(bidders_heard.len() >= 2, "one bidder only: {acks:?}");

    // The close comes once, ten seconds after the last bid, by whichever process takes the job.
    let record = wait_for_record(&client, &bases[1], &tender, Duration::from_secs(60)).await?;
    assert_eq!(record["status"], "sold", "{record}");
    let recorded: Vec<Ack> = record["bids"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| Ack {
            seq: b["seq"].as_i64().unwrap_or_default(),
            amount: b["amount"].as_str().unwrap_or_default().to_owned(),
            pseudonym: b["pseudonym"].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    // Every acknowledged bid is in the record, and nothing else: no refused bid got in.
    assert_eq!(recorded, acks, "refused: {:?}", refused.lock().await);
    let seqs: Vec<i64> = recorded.iter().map(|a| a.seq).collect();
    assert_eq!(seqs, (1..=recorded.len() as i64).collect::<Vec<_>>());
    let amounts: Vec<f64> = recorded
        .iter()
        .map(|a| a.amount.parse().unwrap_or_default())
        .collect();
    assert!(
        amounts.windows(2).all(|w| w[0] < w[1]),
        "the prices do not rise strictly: {amounts:?}"
    );
    assert_eq!(
        record["final_price"].as_str(),
        recorded.last().map(|a| a.amount.as_str())
    );
    let closes = count(
        &site.database_url(),
        "SELECT COUNT(*) FROM audit_entries WHERE action = 'auction.close'",
    )
    .await?;
    assert_eq!(closes, 1);
    // Watchers on both processes saw the same whole sequence.
    for watcher in watchers {
        assert_eq!(watcher.await??, seqs);
    }
    tenderhall_e2e::terminate(&mut worker).await?;
    for server in servers {
        server.stop().await?;
    }
    Ok(())
}

#[tokio::test]
async fn the_process_holding_an_auction_killed_mid_countdown_resumes_and_closes_on_time()
-> anyhow::Result<()> {
    let site = Site::new().await?;
    let (ok, out, err) = site.run(&["migrate"]).await?;
    anyhow::ensure!(ok, "migrate: {out}{err}");
    let mut cmd = site.command(&["serve", "--sandbox", "--listen", "127.0.0.1:0"])?;
    cmd.env("TENDERHALL_JOB_POLL_SECONDS", "1");
    let first = Server::start(cmd).await?;
    let base = first.base.clone();
    let client = reqwest::Client::new();
    let api = Api {
        server: &first,
        client: client.clone(),
    };
    let (seller, _) = api.member("seller@kill.test", "tenderer").await?;
    let (a, _) = api.member("a@kill.test", "bidder").await?;
    let (b, _) = api.member("b@kill.test", "bidder").await?;
    let opens = Utc::now() + chrono::Duration::seconds(4);
    let tender = publish_auction(&client, &base, &seller, opens, 10).await?;
    register_and_pay(&client, &base, &a, &tender).await?;
    register_and_pay(&client, &base, &b, &tender).await?;
    tokio::time::sleep(
        (opens - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(200),
    )
    .await;
    let mut acknowledged = Vec::new();
    for (token, amount) in [(&a, "100000"), (&b, "100100"), (&a, "100200")] {
        let res = client
            .post(format!(
                "{base}/api/v1/tenders/{tender}/lots/1/auction/bids"
            ))
            .bearer_auth(token)
            .json(&json!({"amount": amount}))
            .send()
            .await?;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await?;
        acknowledged.push(body);
    }
    let ends: DateTime<Utc> = acknowledged[2]["ends_at"]
        .as_str()
        .unwrap_or_default()
        .parse()?;

    // kill -9 mid-countdown: no goodbye, no drain.
    let mut first = first;
    first.kill().await?;
    let mut cmd = site.command(&["serve", "--sandbox", "--listen", "127.0.0.1:0"])?;
    cmd.env("TENDERHALL_JOB_POLL_SECONDS", "1");
    let second = Server::start(cmd).await?;
    let view: Value = client
        .get(second.url(&format!("/api/v1/tenders/{tender}/lots/1/auction")))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(view["last_seq"], 3, "{view}");
    assert_eq!(view["current_price"]["amount"], "100200.00");
    let record = wait_for_record(&client, &second.base, &tender, Duration::from_secs(40)).await?;
    assert_eq!(record["status"], "sold", "{record}");
    assert_eq!(record["final_price"], "100200.00");
    assert_eq!(record["bids"].as_array().map(Vec::len), Some(3));
    // It ended at the countdown's end by the clock, and the chronograph closed it promptly.
    let ended: DateTime<Utc> = record["ended_at"].as_str().unwrap_or_default().parse()?;
    let closed: DateTime<Utc> = record["closed_at"].as_str().unwrap_or_default().parse()?;
    assert_eq!(ended, ends);
    assert!(closed >= ends, "closed at {closed}, before {ends}");
    assert!(
        closed - ends < chrono::Duration::seconds(3),
        "closed at {closed}, {} after {ends}",
        closed - ends
    );
    second.stop().await?;
    Ok(())
}
