//! Live auctions under load (issue "Live online auctions", docs/performance.md): the release binary
//! on PostgreSQL, side by side in one run with `pgbench` updating one hot row.
//!
//! 1. Bids: `BENCH_CLIENTS` (default 16) bidders bid on one english auction as fast as they can
//!    for `BENCH_SECONDS` (default 10), each bid durable before its 201; acknowledged bids per
//!    second and the p50/p99 acknowledgement latency. Then `pgbench -c BENCH_CLIENTS` running
//!    `UPDATE hot SET v = v + 1 WHERE id = 1` for as long, on the same server.
//! 2. Fan-out: `BENCH_WATCHERS` (default 2,000) WebSocket watchers on the auction; the server's
//!    resident memory before and after they connect; then bids one at a time, and for each the
//!    delay from its 201 to its arrival at every watcher (p50/p99).
//!
//! `bench/auction.sh` builds the release binary and runs this. PostgreSQL at
//! `TENDERHALL_BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`); it creates
//! its own databases.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use futures_util::StreamExt as _;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tenderhall_e2e::{Server, Site};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "correct-horse-42";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let admin = Database::connect(admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    admin.close().await?;
    Ok(tenderhall_domain::store::replace_database_name(
        admin_url, name,
    ))
}

/// PostgreSQL's own rate of one-row updates of a single hot row, one transaction each.
async fn pgbench_hot_row(url: &str, clients: usize, seconds: u64) -> anyhow::Result<f64> {
    let db = Database::connect(url).await?;
    db.execute_unprepared(
        "CREATE TABLE hot (id integer PRIMARY KEY, v bigint NOT NULL); INSERT INTO hot VALUES (1, 0);",
    )
    .await?;
    db.close().await?;
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("hot.sql");
    std::fs::write(&script, "UPDATE hot SET v = v + 1 WHERE id = 1;\n")?;
    let out = tokio::process::Command::new("pgbench")
        .env("PGSSLMODE", "disable")
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
        ])
        .arg("-f")
        .arg(&script)
        .arg(url)
        .output()
        .await
        .context("running pgbench (install PostgreSQL's client tools)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.trim_start_matches("tps = ").split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| {
            format!(
                "no tps in pgbench's output: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

fn resident_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")
}

async fn signed_in(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    kind: &str,
) -> anyhow::Result<String> {
    let account = json!({
        "email": email, "password": PASSWORD, "name": "基准",
        "organization": {"name": format!("{email} 单位"), "kind": kind, "credit_code": "12100000400000000W"}
    });
    let res = client
        .post(format!("{base}/api/v1/accounts"))
        .json(&account)
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::CREATED,
        "register: {}",
        res.text().await?
    );
    let session: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    Ok(session["token"].as_str().unwrap_or_default().to_owned())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let admin_url = std::env::var("TENDERHALL_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let clients: usize = env_or("BENCH_CLIENTS", 16);
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let watchers: usize = env_or("BENCH_WATCHERS", 2000);
    let fanout_bids: usize = env_or("BENCH_FANOUT_BIDS", 50);
    if Database::connect(admin_url.as_str()).await.is_err() {
        println!("auction bench skipped: PostgreSQL at {admin_url} does not answer");
        return Ok(());
    }
    let stamp = Utc::now().format("%Y%m%d%H%M%S");
    let platform_url = create_database(&admin_url, &format!("th_bench_auction_{stamp}")).await?;
    let pgbench_url = create_database(&admin_url, &format!("th_bench_hot_{stamp}")).await?;

    let dir = tempfile::tempdir()?;
    let site = Site {
        env: vec![
            (
                "TENDERHALL_DATA_DIR".to_owned(),
                dir.path().join("data").display().to_string(),
            ),
            ("TENDERHALL_DATABASE_URL".to_owned(), platform_url.clone()),
            (
                "TENDERHALL_MASTER_KEY".to_owned(),
                tenderhall_domain::keys::MasterKey::generate()?.to_base64(),
            ),
        ],
        dir,
    };
    let server: Server = site.serve(&["--sandbox"]).await?;
    let base = server.base.clone();
    let pid = server.pid().context("no server pid")?;
    let http = reqwest::Client::new();

    // One english auction with an hour's countdown, so that it stays open through the bench.
    let seller = signed_in(&http, &base, "seller@bench.test", "tenderer").await?;
    let mut bidders = Vec::new();
    for i in 0..clients.max(2) {
        bidders.push(signed_in(&http, &base, &format!("b{i}@bench.test"), "bidder").await?);
    }
    let opens = Utc::now() + chrono::Duration::seconds(5);
    let created: Value = http
        .post(format!("{base}/api/v1/tenders"))
        .bearer_auth(&seller)
        .json(&json!({
            "title": "竞价基准", "kind": "land_use", "procedure": "auction", "award_method": "highest_price",
            "lots": [{"id": "1", "title": "地块", "budget": "100000", "deposit": "1000",
                      "auction": {"form": "english", "start_price": "100000", "increment": "1", "countdown_seconds": 3600}}],
            "bid_deadline": opens.to_rfc3339(), "accelerator": 1_000_000
        }))
        .send()
        .await?
        .json()
        .await?;
    let tender = created["id"].as_str().unwrap_or_default().to_owned();
    let res = http
        .post(format!("{base}/api/v1/tenders/{tender}/publish"))
        .bearer_auth(&seller)
        .json(&json!({}))
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::OK,
        "publish: {}",
        res.text().await?
    );
    for token in &bidders {
        let registration: Value = http
            .post(format!(
                "{base}/api/v1/tenders/{tender}/lots/1/registrations"
            ))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await?
            .json()
            .await?;
        http.post(format!("{base}/api/v1/sandbox/bank/pay"))
            .json(&json!({"account_no": registration["deposit_account"]["account_no"], "amount": "1000.00"}))
            .send()
            .await?;
    }
    tokio::time::sleep(
        (opens - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(300),
    )
    .await;
    let bids_url = format!("{base}/api/v1/tenders/{tender}/lots/1/auction/bids");

    // 1. Bids as fast as the clients can: each takes the next amount from one counter, so most
    //    beat the last; one that arrives after a higher one is refused, and counted apart.
    let next_fen = Arc::new(AtomicI64::new(10_000_000));
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let refused = Arc::new(AtomicI64::new(0));
    let started = Instant::now();
    let stop = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for token in bidders.iter().take(clients) {
        let (token, http, url, next_fen, latencies, refused) = (
            token.clone(),
            http.clone(),
            bids_url.clone(),
            next_fen.clone(),
            latencies.clone(),
            refused.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while Instant::now() < stop {
                let fen = next_fen.fetch_add(100, Ordering::SeqCst);
                let amount = format!("{}.{:02}", fen / 100, fen % 100);
                let sent = Instant::now();
                let res = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"amount": amount}))
                    .send()
                    .await?;
                let status = res.status();
                let _ = res.bytes().await?;
                if status == StatusCode::CREATED {
                    mine.push(sent.elapsed().as_secs_f64() * 1000.0);
                } else {
                    anyhow::ensure!(status == StatusCode::CONFLICT, "bid answered {status}");
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies.lock().await.extend(mine);
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut acked = latencies.lock().await.clone();
    acked.sort_by(f64::total_cmp);
    let rate = acked.len() as f64 / elapsed;
    let refused = refused.load(Ordering::Relaxed) as f64 / elapsed;
    let hot = pgbench_hot_row(&pgbench_url, clients, seconds).await?;
    println!("auction bids, {clients} clients, {seconds} s, PostgreSQL, durable:");
    println!(
        "  platform: {rate:.0} acknowledged bids/s ({refused:.0}/s refused as beaten), p50 {:.1} ms, p99 {:.1} ms",
        percentile(&acked, 50.0),
        percentile(&acked, 99.0)
    );
    println!("  pgbench hot-row update: {hot:.0} tps");
    println!(
        "  ratio: {:.0} % (goal >= 30 %), p99 goal < 20 ms",
        rate / hot * 100.0
    );

    // 2. Fan-out.
    let before = resident_kib(pid)?;
    let live = format!(
        "{}/api/v1/tenders/{tender}/lots/1/auction/live",
        base.replacen("http://", "ws://", 1)
    );
    let arrivals = Arc::new(Mutex::new(Vec::<(i64, Instant)>::new()));
    let mut sockets = Vec::new();
    for _ in 0..watchers {
        let (mut socket, _) = tokio_tungstenite::connect_async(live.as_str()).await?;
        // The state message first.
        socket.next().await.context("no state message")??;
        sockets.push(socket);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = resident_kib(pid)?;
    let mut readers = Vec::new();
    for mut socket in sockets {
        let arrivals = arrivals.clone();
        readers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Ok(Some(Ok(message))) =
                tokio::time::timeout(Duration::from_secs(5), socket.next()).await
            {
                if let Message::Text(text) = message
                    && let Ok(value) = serde_json::from_str::<Value>(text.as_str())
                    && value["type"] == "bid"
                {
                    mine.push((value["seq"].as_i64().unwrap_or_default(), Instant::now()));
                }
            }
            arrivals.lock().await.extend(mine);
        }));
    }
    let mut acks = std::collections::HashMap::new();
    for i in 0..fanout_bids {
        let fen = next_fen.fetch_add(100, Ordering::SeqCst);
        let amount = format!("{}.{:02}", fen / 100, fen % 100);
        let body: Value = http
            .post(&bids_url)
            .bearer_auth(&bidders[i % 2])
            .json(&json!({"amount": amount}))
            .send()
            .await?
            .json()
            .await?;
        let acked_at = Instant::now();
        if let Some(seq) = body["seq"].as_i64() {
            acks.insert(seq, acked_at);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for reader in readers {
        reader.await?;
    }
    let mut delays: Vec<f64> = arrivals
        .lock()
        .await
        .iter()
        .filter_map(|(seq, at)| {
            acks.get(seq)
                .map(|acked| at.saturating_duration_since(*acked).as_secs_f64() * 1000.0)
        })
        .collect();
    let expected = acks.len() * watchers;
    delays.sort_by(f64::total_cmp);
    println!("fan-out, {watchers} watchers, {} bids:", acks.len());
    println!(
        "  delivered {} of {expected}; from the 201 to the watcher: p50 {:.1} ms, p99 {:.1} ms (goal < 200 ms)",
        delays.len(),
        percentile(&delays, 50.0),
        percentile(&delays, 99.0)
    );
    println!(
        "  server memory: {} MiB before, {} MiB with the watchers: {:.1} KiB per watcher",
        before / 1024,
        after / 1024,
        (after.saturating_sub(before)) as f64 / watchers as f64
    );
    server.stop().await?;
    Ok(())
}
