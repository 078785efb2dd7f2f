//! `tenderhall demo`: a whole sealed-bid tender a newcomer can watch. It starts a sandbox server of
//! its own (or uses `--server`), creates a tenderer and three bidders, publishes an accelerated
//! tender, pays the deposits through the sandbox bank, seals and submits three bids with the code
//! of `tenderhall seal` and `tenderhall submit`, and waits for the opening a minute later.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tenderhall_domain::time::SystemClock;
use tokio::sync::watch;

use crate::bidder::{SealRequest, keygen, seal, submit, verify_signed_document};
use crate::{Settings, cli, platform};

/// 20 days (the open tender's minimum) become 60 seconds.
const ACCELERATOR: u32 = 28_800;
const PASSWORD: &str = "demo-password-2026";

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res = request
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "{path}: {status} {}",
                body["detail"].as_str().unwrap_or_default()
            );
        }
        Ok(body)
    }

    /// Registers an organization with one member and signs in: (token, organization id).
    async fn member(
        &self,
        email: &str,
        kind: &str,
        name: &str,
        basic: &str,
    ) -> anyhow::Result<(String, String)> {
        let account = self
            .call(
                reqwest::Method::POST,
                "/api/v1/accounts",
                None,
                Some(json!({
                    "email": email, "password": PASSWORD, "name": "演示用户",
                    "organization": {"name": name, "kind": kind, "credit_code": "91110000100000000R", "basic_account": basic},
                })),
            )
            .await?;
        let session = self
            .call(
                reqwest::Method::POST,
                "/api/v1/sessions",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await?;
        Ok((
            session["token"].as_str().unwrap_or_default().to_owned(),
            account["organization_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ))
    }
}

/// Runs the demo against `server`, or against a sandbox server of its own.
pub async fn run(server: Option<String>) -> anyhow::Result<()> {
    match server {
        Some(server) => {
            let opening = script(&server).await?;
            println!("\n{opening}");
            Ok(())
        }
        None => {
            let data = tempfile::tempdir().context("cannot make a temporary data folder")?;
            let settings = Settings {
                data_dir: data.path().to_owned(),
                sandbox: true,
                listen: "127.0.0.1:0".to_owned(),
                ..Settings::default()
            };
            let state = platform::open(settings, Arc::new(SystemClock)).await?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let base = format!("http://{}", listener.local_addr()?);
            println!(
                "演示沙箱服务器 / demo sandbox server: {base} (data in {})",
                data.path().display()
            );
            let (stop, stopped) = watch::channel(false);
            let background = tokio::spawn(tenderhall_workers::run(
                cli::worker_context(&state)?,
                stopped,
            ));
            let server_state = state.clone();
            let server = tokio::spawn(async move {
                crate::server::serve(listener, server_state, crate::server::shutdown_signal()).await
            });
            let outcome = script(&base).await;
            match &outcome {
                Ok(opening) => {
                    println!("\n{opening}");
                    println!(
                        "\nThe sandbox server keeps running: look around at {base}/ ; stop it with Ctrl-C."
                    );
                    println!("沙箱服务器继续运行，按 Ctrl-C 结束。");
                    let _ = server.await;
                }
                Err(_) => server.abort(),
            }
            let _ = stop.send(true);
            let _ = background.await;
            outcome.map(|_| ())
        }
    }
}

/// The tender from publication to the opening; returns the opening record's summary.
async fn script(base: &str) -> anyhow::Result<String> {
    let client = Client {
        http: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_owned(),
    };
    let run = uuid::Uuid::now_v7().simple().to_string();
    let tag = &run[run.len() - 6..];
    let (owner, _) = client
        .member(
            &format!("tenderer-{tag}@demo.test"),
            "tenderer",
            "演示招标人 市政工程管理处",
            "6222020000000001",
        )
        .await?;
    let deadline = chrono::Utc::now() + chrono::TimeDelta::seconds(75);
    let tender = client
        .call(
            reqwest::Method::POST,
            "/api/v1/tenders",
            Some(&owner),
            Some(json!({
                "title": format!("演示：办公设备采购 {tag}"),
                "kind": "goods", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
                "lots": [{"id": "1", "title": "台式计算机 200 台", "budget": "1000000", "deposit": "20000"}],
                "bid_deadline": deadline.to_rfc3339(),
                "accelerator": ACCELERATOR,
            })),
        )
        .await?;
    let id = tender["id"].as_str().context("no tender id")?.to_owned();
    let published = client
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/tenders/{id}/publish"),
            Some(&owner),
            None,
        )
        .await?;
    let opening_key = published["lots"][0]["opening_key"]["public_key"]
        .as_str()
        .context("the published lot has no opening key")?
        .to_owned();
    println!("1. 发布招标项目 / tender published: {base}/api/v1/tenders/{id}");
    println!(
        "   截止开标 / deadline and opening: {} (accelerated ×{ACCELERATOR})",
        deadline
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).context("offset")?)
            .format("%H:%M:%S %:z")
    );

    let work = tempfile::tempdir()?;
    for (i, (name, price)) in [
        ("演示投标人甲 科技有限公司", "968000.00"),
        ("演示投标人乙 电子有限公司", "975500.00"),
        ("演示投标人丙 信息有限公司", "959900.00"),
    ]
    .into_iter()
    .enumerate()
    {
        let basic = format!("62220200000001{i:02}");
        let (token, org) = client
            .member(
                &format!("bidder{i}-{tag}@demo.test"),
                "bidder",
                name,
                &basic,
            )
            .await?;
        let registration = client
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/tenders/{id}/lots/1/registrations"),
                Some(&token),
                Some(json!({})),
            )
            .await?;
        let account_no = registration["deposit_account"]["account_no"]
            .as_str()
            .context("no deposit account")?;
        client
            .call(
                reqwest::Method::POST,
                "/api/v1/sandbox/bank/pay",
                None,
                Some(json!({"account_no": account_no, "amount": "20000.00"})),
            )
            .await?;
        let key_path = work.path().join(format!("bidder{i}.pk8"));
        let (public_key, _) = keygen(&key_path)?;
        client
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/organizations/{org}/signing-keys"),
                Some(&token),
                Some(json!({"public_key": public_key})),
            )
            .await?;
        let envelope = seal_bid(work.path(), i, &id, &org, &opening_key, &key_path, price)?;
        let receipt = submit(&client.base, &token, &id, "1", &envelope).await?;
        println!(
            "{}. {name}: 保证金已缴 deposit paid, 投标已密封递交 bid sealed and receipted (seq {}, sha256 {}…)",
            i + 2,
            receipt["seq"],
            &receipt["envelope_sha256"].as_str().unwrap_or_default()[..16]
        );
    }
    let opening_url = format!("{}/api/v1/tenders/{id}/lots/1/opening", client.base);
    println!("5. 开标记录 / watch the opening at: {opening_url}");
    println!("   (curl it now: 409 not_opened; after the deadline: the signed record)");

    // Wait for the opening (the deadline, then the chronograph's job).
    let waited = tokio::time::Instant::now();
    let record = loop {
        let res = client.http.get(&opening_url).send().await?;
        if res.status().is_success() {
            break res.json::<Value>().await?;
        }
        if waited.elapsed() > Duration::from_secs(300) {
            bail!(
                "no opening record five minutes after the deadline: is the server's background work running?"
            );
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let (platform_key, _) = crate::bidder::platform_key(&client.base).await?;
    verify_signed_document(&record, &platform_key)?;
    let mut summary = format!(
        "开标记录（平台签名已验证）/ opening record, signature verified: status {}\n",
        record["status"]
    );
    for bid in record["bids"].as_array().cloned().unwrap_or_default() {
        summary.push_str(&format!(
            "  {}  {}  total_price {}  deposit {}\n",
            bid["bidder_name"].as_str().unwrap_or_default(),
            bid["status"].as_str().unwrap_or_default(),
            bid["fields"]["total_price"].as_str().unwrap_or("-"),
            bid["deposit_status"].as_str().unwrap_or_default(),
        ));
    }
    Ok(summary)
}

fn seal_bid(
    dir: &Path,
    i: usize,
    tender: &str,
    org: &str,
    opening_key: &str,
    key_path: &Path,
    price: &str,
) -> anyhow::Result<std::path::PathBuf> {
    let price_path = dir.join(format!("price-{i}.json"));
    std::fs::write(
        &price_path,
        json!({"lot": "1", "currency": "CNY", "total_price": price}).to_string(),
    )?;
    let technical = dir.join(format!("技术响应-{i}.txt"));
    std::fs::write(&technical, "演示技术响应文件 / demo technical response\n")?;
    let out = dir.join(format!("bid-{i}.thb"));
    seal(&SealRequest {
        tender: tender.to_owned(),
        lot: "1".to_owned(),
        bidder: org.to_owned(),
        opening_key: opening_key.to_owned(),
        signing_key: key_path.to_owned(),
        price: price_path,
        files: vec![technical],
        out: out.clone(),
        progress: false,
    })?;
    Ok(out)
}
