//! Sealing in the browser against the command line (issue "The web portal, part one"): the same
//! file sealed by the bid page's own code in headless Chromium (from the click on "seal" to the
//! finished envelope, as the page times it) and by `tenderhall seal`, alternating, in one run;
//! with the page's renderer memory above its idle size, sampled every 50 ms.
//!
//!     bench/seal-browser.sh            # 256 MiB, 3 rounds each
//!
//! Goal: the page seals at ≥ 50 % of the command line's rate, with < 64 MiB above idle.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use tenderhall_e2e::Site;
use tenderhall_e2e::api::{Api, PASSWORD, keygen, text};
use tenderhall_e2e::browser::Browser;

/// Resident memory (KiB) of every Chromium process of the given type (`renderer`, or the browser
/// itself for `None`), by pid.
fn chromium_rss(kind: Option<&str>) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !cmdline.contains("chromium") {
            continue;
        }
        // Only the browser process itself is started with `--headless`; its children are not.
        let matches = match kind {
            Some(k) => cmdline.contains(&format!("--type={k}")),
            None => !cmdline.contains("--type=") && cmdline.contains("--headless"),
        };
        if !matches {
            continue;
        }
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        out.push((pid, kib));
    }
    out
}

/// The largest growth of one process of `kind` over its size in `idle` (KiB): several renderers
/// run, and the page's is not always the largest.
fn growth(kind: Option<&str>, idle: &HashMap<u32, u64>) -> u64 {
    chromium_rss(kind)
        .into_iter()
        .map(|(pid, kib)| kib.saturating_sub(idle.get(&pid).copied().unwrap_or(kib)))
        .max()
        .unwrap_or(0)
}

fn sizes(kind: Option<&str>) -> HashMap<u32, u64> {
    chromium_rss(kind).into_iter().collect()
}

fn rate(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / seconds / 1e6
}

/// One seal on the page: its own time (click to finished envelope), and the largest growth of a
/// renderer and of the browser process (MiB), sampled every 50 ms.
async fn seal_in_browser(browser: &Browser) -> anyhow::Result<(f64, u64, u64)> {
    let idle_renderer = sizes(Some("renderer"));
    let idle_browser = sizes(None);
    browser
        .eval("const s = document.getElementById('seal-status'); delete s.dataset.done; const f = document.getElementById('seal-form'); delete f.dataset.sealMs; return null;")
        .await?;
    browser.click("#seal-submit").await?;
    let (mut peak_renderer, mut peak_browser) = (0, 0);
    let started = Instant::now();
    let mut tick = 0u32;
    let sealed_ms = loop {
        peak_renderer = peak_renderer.max(growth(Some("renderer"), &idle_renderer));
        peak_browser = peak_browser.max(growth(None, &idle_browser));
        tick += 1;
        // The page is asked every 500 ms only, so that asking does not slow it down.
        if tick.is_multiple_of(10) {
            let ms = browser
                .eval("const s = document.getElementById('seal-status'); if (s.className === 'error') return 'error: ' + s.textContent; return document.getElementById('seal-form').dataset.sealMs || null;")
                .await?;
            if let Some(ms) = ms.as_str() {
                anyhow::ensure!(!ms.starts_with("error"), "the page failed: {ms}");
                break ms.parse::<f64>()?;
            }
        }
        if started.elapsed() > Duration::from_secs(300) {
            let state = browser
                .eval("return [document.getElementById('seal-status').textContent, document.getElementById('seal-bar').value];")
                .await?;
            anyhow::bail!("sealing did not finish: {state}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Let the upload finish (it is the next bid round's precondition), and check it worked.
    let done = loop {
        let done = browser
            .eval("return document.getElementById('seal-status').dataset.done || null;")
            .await?;
        if let Some(d) = done.as_str() {
            break d.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    anyhow::ensure!(
        done == "ok",
        "the bid was not submitted: {}",
        browser.text("#seal-status").await?
    );
    Ok((
        sealed_ms / 1000.0,
        peak_renderer / 1024,
        peak_browser / 1024,
    ))
}

async fn seal_with_cli(
    site: &Site,
    input: &Path,
    dir: &Path,
    args: &SealArgs,
) -> anyhow::Result<f64> {
    let out = dir.join("cli.thb");
    let _ = std::fs::remove_file(&out);
    let price = dir.join("price.json");
    std::fs::write(
        &price,
        json!({"lot": "1", "currency": "CNY", "total_price": "1.00"}).to_string(),
    )?;
    let started = Instant::now();
    let (ok, stdout, stderr) = site
        .run(&[
            "seal",
            "--tender",
            &args.tender,
            "--lot",
            "1",
            "--bidder",
            &args.org,
            "--opening-key",
            &args.opening_key,
            "--signing-key",
            &args.key,
            "--price",
            &price.display().to_string(),
            "--out",
            &out.display().to_string(),
            &input.display().to_string(),
        ])
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(ok, "tenderhall seal: {stdout}{stderr}");
    Ok(seconds)
}

/// The two halves of the page's work measured alone, in the page, over `size` bytes: its
/// streaming SHA-256 (the envelope is one sequential hash, so this bounds the page's rate) and
/// WebCrypto's AES-256-GCM in 64 KiB chunks with 32 in flight. Answers MB/s for each.
async fn probe_page(browser: &Browser, size: u64) -> anyhow::Result<(f64, f64)> {
    let script = format!(
        "const size = {size}; const S = window.tenderhallSeal; await window.tenderhallSha256.ready;
         const block = new Uint8Array(8 * 1024 * 1024); crypto.getRandomValues(block.subarray(0, 65536));
         let t = performance.now(); const h = new S.Sha256();
         for (let done = 0; done < size; done += block.length) h.update(block);
         h.digest(); const hashMs = performance.now() - t;
         const key = await crypto.subtle.generateKey({{ name: 'AES-GCM', length: 256 }}, false, ['encrypt']);
         const iv = new Uint8Array(12), aad = new Uint8Array(32), pending = [];
         t = performance.now();
         for (let at = 0; at < size; at += 65536) {{
           pending.push(crypto.subtle.encrypt({{ name: 'AES-GCM', iv, additionalData: aad }}, key, block.subarray(at % block.length, at % block.length + 65536)));
           if (pending.length >= 32) await Promise.all(pending.splice(0, 16));
         }}
         await Promise.all(pending);
         return [hashMs, performance.now() - t];"
    );
    let answer = browser
        .eval(&format!("return (async () => {{ {script} }})();"))
        .await?;
    let ms = |i: usize| answer[i].as_f64().unwrap_or(f64::NAN) / 1000.0;
    Ok((rate(size, ms(0)), rate(size, ms(1))))
}

struct SealArgs {
    tender: String,
    org: String,
    opening_key: String,
    key: String,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

async fn run() -> anyhow::Result<()> {
    let size_mib: u64 = std::env::var("BENCH_SIZE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let size = size_mib * 1024 * 1024;
    let site = Site::new().await?;
    let server = site.serve(&["--sandbox"]).await?;
    let api = Api {
        server: &server,
        client: reqwest::Client::new(),
    };
    let (owner, _) = api.member("owner@bench.test", "tenderer").await?;
    let (status, t) = api
        .post(
            "/api/v1/tenders",
            Some(&owner),
            &json!({
                "title": "封装基准", "kind": "goods", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
                "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
                "bid_deadline": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
            }),
        )
        .await?;
    anyhow::ensure!(status.is_success(), "{t}");
    let tender = text(&t["id"]);
    let (status, published) = api
        .post(
            &format!("/api/v1/tenders/{tender}/publish"),
            Some(&owner),
            &json!({}),
        )
        .await?;
    anyhow::ensure!(status.is_success(), "{published}");
    let opening_key = text(&published["lots"][0]["opening_key"]["public_key"]);
    let (token, org) = api.member("bidder@bench.test", "bidder").await?;
    let (status, reg) = api
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/registrations"),
            Some(&token),
            &json!({}),
        )
        .await?;
    anyhow::ensure!(status.is_success(), "{reg}");
    let (key, public) = keygen(&site, "bench").await?;
    api.post(
        &format!("/api/v1/organizations/{org}/signing-keys"),
        Some(&token),
        &json!({"public_key": public}),
    )
    .await?;
    let args = SealArgs {
        tender: tender.clone(),
        org,
        opening_key,
        key: key.clone(),
    };

    // The file, in memory (/dev/shm) where there is one, so both read it from the page cache.
    let shm = Path::new("/dev/shm");
    let dir = tempfile::tempdir_in(if shm.is_dir() { shm } else { site.dir.path() })?;
    let input = dir.path().join("bid.bin");
    {
        use std::io::Write as _;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&input)?);
        let mut block = vec![0u8; 1 << 20];
        for i in 0..size_mib {
            for (j, b) in block.iter_mut().enumerate() {
                *b = ((i as usize * 7919 + j).wrapping_mul(2_654_435_761) >> 13) as u8;
            }
            f.write_all(&block)?;
        }
    }

    let browser = Browser::start("en").await?;
    browser.goto(&server.url("/signin")).await?;
    browser.fill("#email", "bidder@bench.test").await?;
    browser.fill("#password", PASSWORD).await?;
    browser.click("#signin-submit").await?;
    browser.wait_for("#account-facts").await?;
    browser
        .goto(&server.url(&format!("/workbench/bids/{tender}/1")))
        .await?;
    browser.wait_for("#key-file").await?.send_keys(&key).await?;
    let started = Instant::now();
    while !browser
        .text("#key-status")
        .await
        .unwrap_or_default()
        .contains(char::is_numeric)
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(10),
            "the key did not load"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.fill("#total_price", "1.00").await?;
    browser
        .wait_for("#bid-files")
        .await?
        .send_keys(&input.display().to_string())
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await; // let the page settle to its idle size

    let (mut cli, mut page, mut renderer, mut browser_process) = (Vec::new(), Vec::new(), 0, 0);
    for round in 1..=rounds {
        let c = seal_with_cli(&site, &input, dir.path(), &args).await?;
        let (p, r, b) = seal_in_browser(&browser).await?;
        eprintln!(
            "round {round}: tenderhall seal {c:.2} s, page {p:.2} s (renderer +{r} MiB, browser process +{b} MiB)"
        );
        cli.push(c);
        page.push(p);
        renderer = renderer.max(r);
        browser_process = browser_process.max(b);
    }
    let (hash_rate, encrypt_rate) = probe_page(&browser, size).await?;
    let (c, p) = (median(cli), median(page));
    println!(
        "file: {size_mib} MiB in {}, median of {rounds} rounds each, alternating",
        dir.path().display()
    );
    println!(
        "tenderhall seal (release): {c:.2} s, {:.0} MB/s",
        rate(size, c)
    );
    println!(
        "the bid page in Chromium:  {p:.2} s, {:.0} MB/s",
        rate(size, p)
    );
    println!(
        "page / command line rate:  {:.0} % (goal >= 50 %)",
        c / p * 100.0
    );
    println!(
        "in the page alone: SHA-256 {hash_rate:.0} MB/s (the ceiling: one sequential hash), AES-256-GCM {encrypt_rate:.0} MB/s"
    );
    println!("page renderer memory above idle, peak: {renderer} MiB (goal < 64 MiB)");
    println!(
        "browser process memory above idle, peak: {browser_process} MiB (where Blobs are kept)"
    );
    browser.close().await?;
    server.stop().await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; any other argument is a filter this bench does not take.
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    tokio::runtime::Runtime::new()?.block_on(run())
}
