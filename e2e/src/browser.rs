//! A real headless Chromium for the portal's tests, driven over WebDriver (chromedriver) with
//! fantoccini. Chromium and chromedriver come from the distribution's packages (`.ci/run`
//! installs them). Without them a test says so and passes on a developer's machine, but fails
//! under `CI=true`, where they must be there.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

/// A chromedriver process and one browser session on it.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Chromium and chromedriver, from `TENDERHALL_TEST_CHROMIUM` / `TENDERHALL_TEST_CHROMEDRIVER` or
/// the Debian packages' paths.
pub fn installed() -> Option<(PathBuf, PathBuf)> {
    let chromium = std::env::var("TENDERHALL_TEST_CHROMIUM")
        .ok()
        .map(PathBuf::from)
        .or_else(|| find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]))?;
    let driver = std::env::var("TENDERHALL_TEST_CHROMEDRIVER")
        .ok()
        .map(PathBuf::from)
        .or_else(|| find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]))?;
    Some((chromium, driver))
}

/// Whether a browser test can run here: yes with Chromium installed; in CI it must be.
pub fn available(test: &str) -> anyhow::Result<bool> {
    if installed().is_some() {
        return Ok(true);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        bail!(
            "{test}: Chromium and chromedriver are missing; .ci/run installs them (apt-get install chromium chromium-driver)"
        );
    }
    eprintln!(
        "{test}: skipped, Chromium is not installed (apt-get install chromium chromium-driver, or set TENDERHALL_TEST_CHROMIUM and TENDERHALL_TEST_CHROMEDRIVER)"
    );
    Ok(false)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium that prefers `language` (`zh-CN` or `en`).
    pub async fn start(language: &str) -> anyhow::Result<Self> {
        let (chromium, driver_path) = installed().context("Chromium is not installed")?;
        let port = free_port()?;
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", driver_path.display()))?;
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1280,1000", format!("--lang={language}"),
                ],
                "prefs": {"intl.accept_languages": language},
            }),
        );
        // chromedriver takes a moment to listen.
        let mut last = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return Ok(Self { client, driver }),
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("chromedriver did not start a session: {last:?}")
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client.goto(url).await.context("navigating")
    }

    /// The visible text of the element `css`, waiting up to 10 seconds for it to appear. An
    /// element that a script replaced between finding and reading is found again.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let mut tries = 0;
        loop {
            let element = self.wait_for(css).await?;
            match element.text().await {
                Ok(text) => return Ok(text),
                Err(e) if tries < 3 && e.to_string().contains("stale element") => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub async fn wait_for(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for `{css}`"))
    }

    /// Types `text` into the field `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let element = self.wait_for(css).await?;
        element.clear().await?;
        element.send_keys(text).await?;
        Ok(())
    }

    pub async fn select(&self, css: &str, value: &str) -> anyhow::Result<()> {
        let element = self.wait_for(css).await?;
        element.select_by_value(value).await?;
        Ok(())
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?.click().await?;
        Ok(())
    }

    /// Clicks `css`, which loads another page (a link, a form's submit), and waits until that
    /// page has loaded: an element the two pages share, found right after the click, could
    /// otherwise be the old page's.
    pub async fn click_and_load(&self, css: &str) -> anyhow::Result<()> {
        self.eval("document.documentElement.dataset.leaving = '1'; return null;")
            .await?;
        self.click(css).await?;
        let started = std::time::Instant::now();
        loop {
            // Asking during the navigation may fail; the next poll asks the new page.
            let fresh = self
                .eval("return document.readyState === 'complete' && !document.documentElement.dataset.leaving;")
                .await;
            if matches!(fresh, Ok(serde_json::Value::Bool(true))) {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(10),
                "the click on `{css}` loaded no page within 10 seconds"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The whole page's visible text.
    pub async fn body_text(&self) -> anyhow::Result<String> {
        self.text("body").await
    }

    pub async fn path(&self) -> anyhow::Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    /// Runs `script` in the page and returns its value.
    pub async fn eval(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Checks the page as WCAG 2.1 AA asks of its forms and text: every form control has a label,
    /// and every visible text a contrast of at least 4.5:1 on its background.
    pub async fn accessible(&self, page: &str) -> anyhow::Result<()> {
        let failures = self.eval(ACCESSIBILITY).await?;
        anyhow::ensure!(
            failures.as_array().is_some_and(Vec::is_empty),
            "{page}: {failures}"
        );
        Ok(())
    }

    /// Saves a screenshot of the page as `name.png` among the run's artifacts.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub async fn close(mut self) -> anyhow::Result<()> {
        let _ = self.client.close().await;
        let _ = self.driver.kill().await;
        Ok(())
    }
}

/// The check of [`Browser::accessible`], run in the page; answers the failures.
const ACCESSIBILITY: &str = r#"
const failures = [];
for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  if (!el.labels || el.labels.length === 0) failures.push('no label: ' + (el.id || el.name));
}
function rgb(c) { const m = c.match(/[\d.]+/g) || []; return m.map(Number); }
function lum([r, g, b]) {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}
function background(el) {
  for (let e = el; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
  }
  return [255, 255, 255];
}
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || el.offsetParent === null) continue;
  const fg = lum(rgb(getComputedStyle(el).color).slice(0, 3));
  const bg = lum(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  if (ratio < 4.5) failures.push('contrast ' + ratio.toFixed(2) + ': ' + el.tagName + ' ' + el.textContent.trim().slice(0, 30));
}
return failures;
"#;

/// Where screenshots go: `TENDERHALL_ARTIFACTS` or `target/artifacts/screenshots`.
pub fn artifacts_dir() -> PathBuf {
    std::env::var("TENDERHALL_ARTIFACTS").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts/screenshots"),
        PathBuf::from,
    )
}
