//! Bank notifications per second on PostgreSQL, with the ledger invariant checked afterwards,
//! against PostgreSQL's own single-row insert rate measured by `pgbench` in the same run (issue
//! "Deposits": goal ≥ 30 % of it).
//!
//! `cargo bench -p tenderhall-api --bench notifications` (PostgreSQL at
//! `TENDERHALL_BENCH_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`; it makes and
//! drops its own databases). Options: `BENCH_SECONDS` (default 10), `BENCH_ROUNDS` (pgbench and the
//! platform in turn, default 3; the median of the rounds' ratios is the result),
//! `BENCH_CONCURRENCY` (the client counts to measure at, default `16,64`; pgbench runs with the
//! same count each time), `BENCH_KEEP_DATABASES` (set: the databases stay for a look at their
//! plans; drop them after).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{TimeDelta, Utc};
use sea_orm::{ConnectionTrait, Database};
use tenderhall_api::config::{Secret, Settings};
use tenderhall_domain::account::service::{
    NewOrganization, Registration, SignInPolicy, authenticate, register, sign_in,
};
use tenderhall_domain::deposit::service::{check_ledger, register as register_for_lot};
use tenderhall_domain::deposit::sign_notification;
use tenderhall_domain::id::{LotId, TenderId};
use tenderhall_domain::keys::MasterKey;
use tenderhall_domain::money::MoneyInput;
use tenderhall_domain::store::{loopback_without_tls, replace_database_name};
use tenderhall_domain::tender::procedure::ProcedureSettings;
use tenderhall_domain::tender::service::{LotInput, TenderInput, create_draft, publish};

/// The program's allocator (api/src/main.rs), so that the platform is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tenderhall_domain::time::SystemClock;

/// 400 tenders open at once per round with the same 25 bidders registered in each: 10,000 deposit
/// accounts a round, each paid a few times in it, as a busy province's payments look. A deposit
/// account is paid once or twice in its life, and the overpayment check sums an account's postings:
/// a pool of 1,000 accounts paid 50 times each in a run measured accounts no bidder has, and so
/// would rounds that paid the same accounts again.
const TENDERS: usize = 400;
const BIDDERS: usize = 25;
const WARM_UP_SECONDS: u64 = 3;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// PostgreSQL's own rate of single-row inserts, one transaction each, from `pgbench`.
fn pgbench_insert_rate(url: &str, seconds: u64, clients: usize) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("insert.sql");
    std::fs::write(&script, "INSERT INTO bench_insert (v) VALUES (1);\n")?;
    let mut pgbench = std::process::Command::new("pgbench");
    if loopback_without_tls(url) {
        // The same transport as the platform's connections (`store::connect`).
        pgbench.env("PGSSLMODE", "disable");
    }
    let out = pgbench
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

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
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
    let seconds: u64 = env_or("BENCH_SECONDS", 10);
    let rounds: usize = env_or("BENCH_ROUNDS", 3).max(1);
    let levels: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "16,64".to_owned())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let admin = match Database::connect(admin_url.as_str()).await {
        Ok(db) => db,
        Err(e) => {
            println!(
                "notifications bench skipped: PostgreSQL at {admin_url} does not answer ({e})"
            );
            return Ok(());
        }
    };
    for concurrency in levels {
        let stamp = Utc::now().format("%Y%m%d%H%M%S");
        let pg_db = format!("th_bench_pgbench_{stamp}");
        let th_db = format!("th_bench_platform_{stamp}");
        for db in [&pg_db, &th_db] {
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{db}\""))
                .await?;
        }
        let outcome = measure(&admin_url, &pg_db, &th_db, seconds, rounds, concurrency).await;
        if std::env::var_os("BENCH_KEEP_DATABASES").is_some() {
            println!("kept the databases {pg_db} and {th_db} (BENCH_KEEP_DATABASES)");
            outcome?;
            continue;
        }
        for db in [&pg_db, &th_db] {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
                .await?;
        }
        outcome?;
    }
    Ok(())
}

async fn measure(
    admin_url: &str,
    pg_db: &str,
    th_db: &str,
    seconds: u64,
    rounds: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    // The anchor's table.
    let pg_url = replace_database_name(admin_url, pg_db);
    let pg = Database::connect(pg_url.as_str()).await?;
    pg.execute_unprepared("CREATE TABLE bench_insert (id bigserial PRIMARY KEY, v integer)")
        .await?;
    pg.close().await?;

    // The platform, in-process, on its own database.
    let dir = tempfile::tempdir()?;
    let settings = Settings {
        data_dir: dir.path().join("data"),
        database_url: Some(replace_database_name(admin_url, th_db)),
        master_key: Some(Secret::new(MasterKey::generate()?.to_base64())),
        sandbox: true,
        ..Settings::default()
    };
    let state = tenderhall_api::platform::open(settings, Arc::new(SystemClock)).await?;
    let db = state.db().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server_state = state.clone();
    tokio::spawn(async move {
        let _ = tenderhall_api::server::serve(listener, server_state, std::future::pending()).await;
    });

    // Tenders with registered bidders, each paying from its own basic account.
    let setup = Instant::now();
    let now = Utc::now();
    let policy = SignInPolicy::default();
    let mut accounts: Vec<(String, String)> = Vec::new();
    let owner = register(
        &db,
        registration("owner@bench.test", "tenderer", None),
        true,
        None,
        now,
    )
    .await;
    owner.map_err(|e| anyhow::anyhow!("{e}"))?;
    let owner = principal(&db, &policy, "owner@bench.test").await?;
    let mut bidders = Vec::new();
    for b in 0..BIDDERS {
        let email = format!("b{b}@bench.test");
        let basic = format!("6222{b:012}");
        register(
            &db,
            registration(&email, "bidder", Some(basic.clone())),
            true,
            None,
            now,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        bidders.push((principal(&db, &policy, &email).await?, basic));
    }
    for t in 0..TENDERS * rounds {
        let input = TenderInput {
            title: format!("基准项目 {t}"),
            kind: "goods".into(),
            procedure: "open_tender".into(),
            award_method: "lowest_evaluated_price".into(),
            lots: vec![LotInput {
                id: "1".into(),
                title: "包一".into(),
                budget: MoneyInput::Text("10000000".into()),
                deposit: MoneyInput::Text("200000".into()),
                price_ceiling: None,
                auction: None,
            }],
            document_fee: None,
            bid_deadline: now + TimeDelta::days(30),
            bid_validity_days: None,
            opening_fields: None,
            accelerator: None,
            tenderer_id: None,
            evaluation: None,
            region: None,
        };
        let tender = create_draft(&db, state.master_key(), &owner, input, true, None, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (tender, lot) = (TenderId::parse(&tender.id), LotId::parse("1"));
        let (tender, lot) = (
            tender.map_err(|e| anyhow::anyhow!("{e}"))?,
            lot.map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        publish(
            &db,
            &owner,
            &tender,
            &ProcedureSettings::default(),
            state.master_key(),
            true,
            None,
            now,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        for (bidder, basic) in &bidders {
            let (reg, _) = register_for_lot(&db, bidder, &tender, &lot, None, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            accounts.push((reg.deposit_account.account_no, basic.clone()));
        }
    }

    // A warm-up, then statistics as a running platform has them (autovacuum would gather them
    // within a minute; the tables here are seconds old), then the measured load.
    // A province's history beside them, so the planner sees tables of a running platform's size
    // (with 400 tenders and 800 chains it scans whole tables where a real one reads an index).
    seed_history(&db).await?;
    println!(
        "setup: {} deposit accounts registered in {:.0} s",
        accounts.len(),
        setup.elapsed().as_secs_f64()
    );
    // The warm-up pays into every round's accounts a little; each round then pays its own.
    let slices: Vec<Arc<Vec<(String, String)>>> = accounts
        .chunks(TENDERS * BIDDERS)
        .map(|slice| Arc::new(slice.to_vec()))
        .collect();
    let accounts = Arc::new(accounts);
    let warm_up = load(&base, &accounts, concurrency, WARM_UP_SECONDS, "WARM").await?;
    anyhow::ensure!(warm_up.1 == 0, "notifications failed during the warm-up");
    db.execute_unprepared("ANALYZE").await?;
    // Rounds of the anchor and the platform in turn, so that a drift of this machine's speed (a
    // neighbour's load, the host stealing cycles) falls on both sides; the medians are compared.
    let mut inserts = Vec::with_capacity(rounds);
    let mut credits = Vec::with_capacity(rounds);
    let mut ratios = Vec::with_capacity(rounds);
    let mut total_failed = 0;
    for round in 1..=rounds {
        let insert_rate = pgbench_insert_rate(&pg_url, seconds, concurrency)?;
        let started = Instant::now();
        let prefix = format!("BENCH{round}");
        let (credited, failed) =
            load(&base, &slices[round - 1], concurrency, seconds, &prefix).await?;
        let rate = credited as f64 / started.elapsed().as_secs_f64();
        total_failed += failed;
        println!(
            "round {round} ({concurrency} clients, {seconds} s each): pgbench {insert_rate:.0} single-row inserts/s, platform {rate:.0} notifications credited/s ({credited} credited, {failed} failed): {:.0} %",
            rate / insert_rate * 100.0
        );
        inserts.push(insert_rate);
        credits.push(rate);
        ratios.push(rate / insert_rate);
    }
    let (insert_rate, rate) = (median(&mut inserts), median(&mut credits));
    // Each round's two sides ran back to back: their ratio is what the machine's drift between
    // rounds disturbs least.
    let ratio = median(&mut ratios);
    let report = check_ledger(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "PostgreSQL single-row inserts (pgbench, {concurrency} clients, median of {rounds} rounds): {insert_rate:.0}/s"
    );
    println!(
        "bank notifications credited ({concurrency} clients, median of {rounds} rounds, each into {TENDERS} tenders × {BIDDERS} bidders of its own): {rate:.0}/s"
    );
    println!(
        "ratio: {:.0} % of pgbench (median of the rounds' ratios; goal ≥ 30 %); each batch of notifications is one transaction of four round trips: BEGIN, its tenders' chains locked with the accounts read, one statement writing everything, COMMIT",
        ratio * 100.0
    );
    println!(
        "ledger after the run: {} entries, {} postings, sound: {}",
        report.entries,
        report.postings,
        report.is_sound()
    );
    let failed = total_failed;
    anyhow::ensure!(report.is_sound(), "the ledger does not balance: {report:?}");
    anyhow::ensure!(failed == 0, "some notifications failed");
    Ok(())
}

/// 2,000 earlier tenders, awarded, with their audit chains, and their 50,000 closed deposit
/// accounts and who paid them, written directly.
async fn seed_history(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    db.execute_unprepared(
        "INSERT INTO tenders (id, owner_org_id, tenderer_org_id, title, kind, procedure, \
         award_method, document_fee_fen, currency, bid_deadline, bid_validity_days, opening_fields, \
         accelerator, status, published_at, created_by, created_at, updated_at) \
         SELECT 'tnd_history_' || g, 'org_history_owner', 'org_history_owner', '往期项目 ' || g, \
         'goods', 'open_tender', 'lowest_evaluated_price', 0, 'CNY', \
         now() - make_interval(days => g / 5), 90, '[]', 1, 'awarded', \
         now() - make_interval(days => g / 5 + 25), 'acc_history', now(), now() \
         FROM generate_series(0, 1999) AS g",
    )
    .await?;
    db.execute_unprepared(
        "INSERT INTO audit_chains (chain, last_seq, last_hash, signed_seq, updated_at) \
         SELECT 'tender:tnd_history_' || g || s.suffix, 60, md5(g::text) || md5(s.suffix || g), \
         60, now() FROM generate_series(0, 1999) AS g, (VALUES (''), (':sealed')) AS s(suffix)",
    )
    .await?;
    db.execute_unprepared(
        "INSERT INTO virtual_accounts (account_no, kind, tender_id, lot_id, organization_id, \
         registration_id, amount_due_fen, currency, status, created_at) \
         SELECT '9558809' || lpad(g::text, 11, '0'), 'deposit', 'tnd_history_' || (g / 25), '1', \
         'org_history_' || (g % 500), NULL, 200000, 'CNY', 'closed', now() \
         FROM generate_series(1, 50000) AS g",
    )
    .await?;
    db.execute_unprepared(
        "INSERT INTO deposit_payers (payer_account, account_no, tender_id, organization_id, \
         first_paid_at) \
         SELECT '6228' || lpad((g % 500)::text, 12, '0'), '9558809' || lpad(g::text, 11, '0'), \
         'tnd_history_' || (g / 25), 'org_history_' || (g % 500), now() \
         FROM generate_series(1, 50000) AS g",
    )
    .await?;
    Ok(())
}

/// `concurrency` clients sending signed notifications for `seconds`: (credited, failed).
async fn load(
    base: &str,
    accounts: &Arc<Vec<(String, String)>>,
    concurrency: usize,
    seconds: u64,
    prefix: &str,
) -> anyhow::Result<(u64, u64)> {
    let prefix: Arc<str> = prefix.into();
    // Parsed once, as a bank's client would hold it: the load generator shares the two cores.
    let url = reqwest::Url::parse(&format!("{base}/api/v1/bank/notifications"))?;
    let client = reqwest::Client::new();
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (client, url, done, failed, accounts, prefix) = (
            client.clone(),
            url.clone(),
            done.clone(),
            failed.clone(),
            accounts.clone(),
            prefix.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0usize;
            while Instant::now() < until {
                let (account, payer) = &accounts[(worker * 7919 + i * 31) % accounts.len()];
                let body = serde_json::json!({
                    "bank_txn_id": format!("{prefix}-{worker}-{i}"),
                    "account_no": account,
                    "amount": "1.00",
                    "paid_at": Utc::now().to_rfc3339(),
                    "payer_name": "基准",
                    "payer_account": payer,
                })
                .to_string();
                let ts = Utc::now().timestamp();
                let signature = sign_notification(b"sandbox-bank-secret", ts, body.as_bytes());
                let res = client
                    .post(url.clone())
                    .header("content-type", "application/json")
                    .header("x-bank-timestamp", ts.to_string())
                    .header("x-bank-signature", signature)
                    .body(body)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => done.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                i += 1;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    Ok((done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed)))
}

fn registration(email: &str, kind: &str, basic_account: Option<String>) -> Registration {
    Registration {
        email: email.to_owned(),
        password: "correct-horse-42".to_owned(),
        name: "基准".to_owned(),
        organization: NewOrganization {
            name: format!("{email} 公司"),
            kind: kind.to_owned(),
            credit_code: "91110000100000000R".to_owned(),
            basic_account,
        },
        language: None,
    }
}

async fn principal(
    db: &sea_orm::DatabaseConnection,
    policy: &SignInPolicy,
    email: &str,
) -> anyhow::Result<tenderhall_domain::account::Principal> {
    let now = Utc::now();
    let session = sign_in(db, policy, email, "correct-horse-42", "127.0.0.1", now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    authenticate(db, &session.token, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}
