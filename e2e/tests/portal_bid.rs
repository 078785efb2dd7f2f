//! The workbenches in a real headless Chromium against the real binary (docs/portal.md): a
//! tenderer signs up, sees a too-short deadline refused while typing in the guided form, saves,
//! uploads a document and publishes; a bidder signs up, registers, pays through the sandbox bank,
//! downloads, seals a file in the browser and submits it; at the deadline the opening shows the
//! browser-sealed price beside two bids sealed by the CLI, and `tenderhall verify-receipt` checks
//! the receipt the browser kept.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tenderhall_e2e::Site;
use tenderhall_e2e::api::{Api, cli_bid, text};
use tenderhall_e2e::browser::{Browser, available};

/// A `datetime-local` value in Beijing time, to the second.
fn local(at: chrono::DateTime<chrono::Utc>) -> String {
    chrono::FixedOffset::east_opt(8 * 3600)
        .map(|china| {
            at.with_timezone(&china)
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base64_decode(text: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine as _;
    Ok(base64::engine::general_purpose::STANDARD.decode(text.trim())?)
}

async fn set_value(browser: &Browser, id: &str, value: &str) -> anyhow::Result<()> {
    browser
        .client
        .execute(
            "const el = document.getElementById(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('input', {bubbles: true})); return null;",
            vec![json!(id), json!(value)],
        )
        .await?;
    Ok(())
}

async fn wait_attr(
    browser: &Browser,
    css: &str,
    attr: &str,
    want: &str,
    secs: u64,
) -> anyhow::Result<String> {
    let started = Instant::now();
    loop {
        let el = browser.wait_for(css).await?;
        // A form's submit replaces the page: the element found on the old page goes stale, and
        // the next poll finds the new page's.
        let got = match el.attr(attr).await {
            Ok(value) => value.unwrap_or_default(),
            Err(e) if e.to_string().contains("stale element") => String::new(),
            Err(e) => return Err(e.into()),
        };
        if got == want {
            return Ok(got);
        }
        if started.elapsed() > Duration::from_secs(secs) {
            anyhow::bail!(
                "{css} [{attr}] is `{got}`, not `{want}`: {}",
                el.text().await.unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn sign_up(
    browser: &Browser,
    base: &str,
    email: &str,
    org: &str,
    kind: &str,
    basic: &str,
) -> anyhow::Result<()> {
    browser.goto(&format!("{base}/signup")).await?;
    browser.fill("#name", "测试").await?;
    browser.fill("#email", email).await?;
    browser.fill("#password", "correct-horse-42").await?;
    browser.fill("#org_name", org).await?;
    browser.select("#org_kind", kind).await?;
    browser.fill("#credit_code", "91110000100000000R").await?;
    browser.fill("#basic_account", basic).await?;
    browser.click("#signup-submit").await?;
    browser.wait_for("#account-org").await?;
    Ok(())
}

#[tokio::test]
async fn a_tender_published_and_a_bid_sealed_in_the_browser_open_at_the_deadline()
-> anyhow::Result<()> {
    if !available("portal bid")? {
        return Ok(());
    }
    let site = Site::new().await?;
    let server = site.serve(&["--sandbox"]).await?;
    let api = Api {
        server: &server,
        client: reqwest::Client::new(),
    };
    let base = server.base.clone();
    let browser = Browser::start("zh-CN").await?;

    // The tenderer, in the guided form.
    sign_up(
        &browser,
        &base,
        "clerk@county.test",
        "某县教育局",
        "tenderer",
        "",
    )
    .await?;
    browser
        .goto(&format!("{base}/workbench/tenders/new"))
        .await?;
    browser.fill("#title", "某县中学实验室设备采购").await?;
    browser.select("#kind", "goods").await?;
    browser.select("#procedure", "open_tender").await?;
    browser.fill("#region", "330100").await?;
    browser.fill("#lot1_title", "实验室设备").await?;
    browser.fill("#lot1_budget", "100000").await?;
    browser.fill("#lot1_deposit", "2000").await?;
    // Ten minutes is far below the 20 days of an open tender: refused while typing.
    set_value(
        &browser,
        "bid_deadline",
        &local(chrono::Utc::now() + chrono::Duration::minutes(10)),
    )
    .await?;
    wait_attr(
        &browser,
        "#legal-check",
        "data-code",
        "period_too_short",
        10,
    )
    .await?;
    browser.accessible("new tender").await?;
    let shown = browser.text("#legal-check").await?;
    assert!(shown.contains("20"), "the legal minimum is shown: {shown}");
    browser.screenshot("tender-new-refused").await?;
    // Accelerated (sandbox): 20 days are 20 seconds; the deadline leaves the bidders time.
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(100);
    browser.fill("#accelerator", "86400").await?;
    set_value(&browser, "bid_deadline", &local(deadline)).await?;
    wait_attr(&browser, "#legal-check", "data-code", "ok", 10).await?;
    browser.click("#create-tender").await?;
    wait_attr(&browser, "#publish-check", "data-code", "ok", 10).await?;
    let path = browser.path().await?;
    let tender = path.rsplit('/').next().unwrap_or_default().to_owned();
    assert!(tender.starts_with("tnd_"), "{path}");

    // A document, with a progress bar, then publication.
    let document = site.dir.path().join("招标文件.pdf");
    std::fs::write(
        &document,
        (0..300_000u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    )?;
    browser.fill("#doc-title", "招标文件").await?;
    browser
        .wait_for("#doc-file")
        .await?
        .send_keys(&document.display().to_string())
        .await?;
    browser.click("#upload").await?;
    browser.wait_for("#documents").await?;
    assert!(browser.text("#documents").await?.contains("招标文件.pdf"));
    browser.accessible("tender workbench").await?;
    browser.click("#publish").await?;
    wait_attr(&browser, "#tender-status", "class", "badge active", 10).await?;
    browser.screenshot("tender-manage").await?;

    // Two bidders bid with the command line.
    let (_, view) = api.get(&format!("/api/v1/tenders/{tender}"), None).await?;
    let opening_key = text(&view["lots"][0]["opening_key"]["public_key"]);
    cli_bid(
        &site,
        &api,
        &tender,
        &opening_key,
        "cli1@bidder.test",
        "93000.00",
        "2000.00",
    )
    .await?;
    cli_bid(
        &site,
        &api,
        &tender,
        &opening_key,
        "cli2@bidder.test",
        "95500.00",
        "2000.00",
    )
    .await?;

    // The third bidder uses the portal.
    browser.click("#nav-signout").await?;
    browser.wait_for("#nav-signin").await?;
    sign_up(
        &browser,
        &base,
        "bid@supplier.test",
        "杭州某仪器有限公司",
        "bidder",
        "6222020012345678",
    )
    .await?;
    browser.goto(&format!("{base}/tenders/{tender}")).await?;
    browser.click("#bid-lot-1").await?;
    browser.click("#register").await?;
    browser.wait_for("#deposit-account").await?;
    browser.click("#sandbox-pay-deposit").await?;
    wait_attr(&browser, "#deposit-status", "data-status", "paid", 15).await?;
    let href = browser
        .wait_for("#documents a")
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    let status = browser
        .client
        .execute(
            "return fetch(arguments[0]).then(r => r.status);",
            vec![json!(href)],
        )
        .await?;
    assert_eq!(status, json!(200), "the bidder downloads the document");

    browser.accessible("bid page").await?;
    // The page's streaming SHA-256 (WebAssembly) agrees with ring's, whatever the pieces it is fed.
    let hashed = browser
        .eval(
            "const d = new Uint8Array(1000003); for (let i = 0; i < d.length; i++) d[i] = (i * 31 + 7) & 255;
             return Promise.all([tenderhallSeal.sha256Hex(d, 65552), tenderhallSeal.sha256Hex(d, 1000), tenderhallSeal.sha256Hex(d.subarray(0, 55), 7)]);",
        )
        .await?;
    let data: Vec<u8> = (0..1_000_003u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(7) & 255) as u8)
        .collect();
    let want = |bytes: &[u8]| hex_of(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    assert_eq!(hashed[0]["hex"], json!(want(&data)), "{hashed}");
    assert_eq!(hashed[1]["hex"], json!(want(&data)), "{hashed}");
    assert_eq!(hashed[2]["hex"], json!(want(&data[..55])), "{hashed}");
    assert_eq!(
        hashed[0]["wasm"],
        json!(true),
        "the WebAssembly hasher is in use"
    );
    // Seal and sign in the browser: a key made here (offered for download), then the one
    // `tenderhall keygen` wrote, loaded from its file and registered; a price; a file.
    let bid_file = site.dir.path().join("技术标.bin");
    std::fs::write(
        &bid_file,
        (0..3_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect::<Vec<u8>>(),
    )?;
    browser.click("#key-generate").await?;
    let started = Instant::now();
    while !browser
        .text("#key-status")
        .await
        .unwrap_or_default()
        .contains(char::is_numeric)
    {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(10), "no key");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let generated = browser.text("#key-status").await?;
    assert!(
        browser
            .wait_for("#key-download")
            .await?
            .is_displayed()
            .await?,
        "the new key is offered for download"
    );
    let (key_file, public) = tenderhall_e2e::api::keygen(&site, "portal-bidder").await?;
    let expected = tenderhall_domain::keys::key_id(&base64_decode(&public)?);
    browser
        .wait_for("#key-file")
        .await?
        .send_keys(&key_file)
        .await?;
    let started = Instant::now();
    while !browser
        .text("#key-status")
        .await
        .unwrap_or_default()
        .contains(&expected)
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(10),
            "the keygen file's key (id {expected}) was not loaded: {}",
            browser.text("#key-status").await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_ne!(generated, browser.text("#key-status").await?);
    browser.fill("#total_price", "88000.00").await?;
    browser
        .wait_for("#bid-files")
        .await?
        .send_keys(&bid_file.display().to_string())
        .await?;
    browser.click("#seal-submit").await?;
    let done = {
        let started = Instant::now();
        loop {
            let el = browser.wait_for("#seal-status").await?;
            if let Some(done) = el.attr("data-done").await? {
                break done;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "sealing did not finish"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    assert_eq!(done, "ok", "{}", browser.text("#seal-status").await?);
    browser.screenshot("bid-submitted").await?;
    let receipt: Value = serde_json::from_str(&browser.text("#receipt-json").await?)?;
    let receipt_file = site.dir.path().join("receipt.json");
    std::fs::write(&receipt_file, receipt.to_string())?;
    let (ok, out, err) = site
        .run(&[
            "verify-receipt",
            "--server",
            &base,
            &receipt_file.display().to_string(),
        ])
        .await?;
    assert!(ok, "tenderhall verify-receipt: {out}{err}");
    assert!(
        chrono::Utc::now() < deadline,
        "the flow took too long for the deadline"
    );

    // At the deadline the three bids open; the browser's price is read like the CLI's.
    let record = api
        .wait_for(
            &format!("/api/v1/tenders/{tender}/lots/1/opening"),
            None,
            120,
            |s, _| s.is_success(),
        )
        .await?;
    assert_eq!(record["status"], "opened", "{record}");
    let bids = record["bids"].as_array().cloned().unwrap_or_default();
    assert_eq!(bids.len(), 3, "{record}");
    let ours = bids
        .iter()
        .find(|b| b["envelope_sha256"] == receipt["envelope_sha256"])
        .ok_or_else(|| anyhow::anyhow!("the browser's bid is in the record: {record}"))?;
    assert_eq!(ours["status"], "opened", "{ours}");
    assert_eq!(ours["fields"]["total_price"], "88000.00");
    assert_eq!(ours["bidder_name"], "杭州某仪器有限公司");
    browser.goto(&format!("{base}/tenders/{tender}")).await?;
    assert!(browser.text("#record-1").await?.contains("88000.00"));
    browser.click("#verify-button-1").await?;
    wait_attr(&browser, "#verify-1", "class", "verify-result ok", 10).await?;
    browser.screenshot("opening-record").await?;
    browser.close().await?;
    server.stop().await?;
    Ok(())
}
