//! A client for the procedure tests: the API over HTTP, the mail a real SMTP server received,
//! and the bidders' and experts' command-line tools (`keygen`, `sign-json`).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenderhall_workers::testing::{SmtpServer, decoded_mail};

use crate::{Server, Site};

pub const PASSWORD: &str = "correct-horse-42";

/// A client of one server.
pub struct Api<'a> {
    pub server: &'a Server,
    pub client: reqwest::Client,
}

impl Api<'_> {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut req = self.client.request(method, self.server.url(path));
        if let Some(body) = body {
            req = req.json(body);
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// POSTs `body` as JSON: the status and the answer (JSON, or its text as a string).
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// GETs `path`: the status and the answer.
    pub async fn get(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    /// Registers an account with its organization and signs in: (token, organization id).
    pub async fn member(&self, email: &str, kind: &str) -> anyhow::Result<(String, String)> {
        let (status, body) = self
            .post(
                "/api/v1/accounts",
                None,
                &json!({
                    "email": email, "password": PASSWORD, "name": "测试",
                    "organization": {"name": format!("{email} 单位"), "kind": kind, "credit_code": "12100000400000000W"}
                }),
            )
            .await?;
        anyhow::ensure!(status == StatusCode::CREATED, "register {email}: {body}");
        let org = text(&body["organization_id"]);
        Ok((self.sign_in(email, PASSWORD).await?, org))
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let (status, body) = self
            .post(
                "/api/v1/sessions",
                None,
                &json!({"email": email, "password": password}),
            )
            .await?;
        anyhow::ensure!(status == StatusCode::CREATED, "sign-in {email}: {body}");
        Ok(text(&body["token"]))
    }

    /// Polls `path` until `done` holds (at most `secs` seconds).
    pub async fn wait_for(
        &self,
        path: &str,
        token: Option<&str>,
        secs: u64,
        done: impl Fn(StatusCode, &Value) -> bool,
    ) -> anyhow::Result<Value> {
        let started = Instant::now();
        loop {
            let (status, body) = self.get(path, token).await?;
            if done(status, &body) {
                return Ok(body);
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(secs),
                "waiting for {path}: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A credit code with its GB 32100-2015 check character.
pub fn credit_code(n: u32) -> String {
    let first17 = format!("91330100MA{n:07}");
    let check = tenderhall_domain::account::credit_code_check(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// The first token after `marker` in the newest mail to `to`, decoded.
pub fn token_in_mail(smtp: &SmtpServer, to: &str, marker: &str) -> anyhow::Result<Option<String>> {
    Ok(smtp
        .messages()?
        .iter()
        .map(|m| decoded_mail(m))
        .rfind(|m| m.contains(&format!("To: {to}")) && m.contains(marker))
        .map(|m| {
            let at = m.find(marker).unwrap_or(0) + marker.len();
            m[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        }))
}

/// Runs the binary's `sign-json` on `doc`: the expert's signature, base64.
pub async fn sign(site: &Site, key: &str, doc: &Value) -> anyhow::Result<String> {
    let file = site.dir.path().join(format!("doc-{}.json", nanos()));
    std::fs::write(&file, doc.to_string())?;
    let (ok, out, err) = site
        .run(&["sign-json", "--key", key, &file.display().to_string()])
        .await?;
    anyhow::ensure!(ok, "sign-json: {err}");
    Ok(out.trim().to_owned())
}

pub fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// Makes a key with `tenderhall keygen`: (file, public key).
pub async fn keygen(site: &Site, name: &str) -> anyhow::Result<(String, String)> {
    let file = site
        .dir
        .path()
        .join(format!("{name}.pk8"))
        .display()
        .to_string();
    let (ok, out, err) = site.run(&["keygen", "--out", &file]).await?;
    anyhow::ensure!(ok, "keygen: {err}");
    let public = out
        .lines()
        .find_map(|l| l.strip_prefix("public key:"))
        .map(|k| k.trim().to_owned())
        .unwrap_or_default();
    Ok((file, public))
}

/// A bidder of its own that bids with the command line, as the bidders of the procedure tests do:
/// registers for lot 1 of `tender`, pays `deposit` through the sandbox bank, makes and registers
/// a key with `tenderhall keygen`, seals `price` with `tenderhall seal` and submits it with
/// `tenderhall submit`. Answers (token, organization id).
pub async fn cli_bid(
    site: &Site,
    api: &Api<'_>,
    tender: &str,
    opening_key: &str,
    email: &str,
    price: &str,
    deposit: &str,
) -> anyhow::Result<(String, String)> {
    let (token, org) = api.member(email, "bidder").await?;
    let (status, reg) = api
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/registrations"),
            Some(&token),
            &json!({}),
        )
        .await?;
    anyhow::ensure!(status == StatusCode::CREATED, "registration {email}: {reg}");
    let (status, paid) = api
        .post(
            "/api/v1/sandbox/bank/pay",
            None,
            &json!({"account_no": reg["deposit_account"]["account_no"], "amount": deposit}),
        )
        .await?;
    anyhow::ensure!(status == StatusCode::OK, "payment {email}: {paid}");
    let name: String = email.chars().filter(char::is_ascii_alphanumeric).collect();
    let (key, public) = keygen(site, &name).await?;
    let (status, body) = api
        .post(
            &format!("/api/v1/organizations/{org}/signing-keys"),
            Some(&token),
            &json!({"public_key": public}),
        )
        .await?;
    anyhow::ensure!(status == StatusCode::CREATED, "signing key {email}: {body}");
    let price_file = site.dir.path().join(format!("price-{name}.json"));
    std::fs::write(
        &price_file,
        json!({"lot": "1", "currency": "CNY", "total_price": price}).to_string(),
    )?;
    let envelope = site
        .dir
        .path()
        .join(format!("bid-{name}.thb"))
        .display()
        .to_string();
    let (ok, out, err) = site
        .run(&[
            "seal",
            "--tender",
            tender,
            "--lot",
            "1",
            "--bidder",
            &org,
            "--opening-key",
            opening_key,
            "--signing-key",
            &key,
            "--price",
            &price_file.display().to_string(),
            "--out",
            &envelope,
        ])
        .await?;
    anyhow::ensure!(ok, "seal {email}: {out}{err}");
    let (ok, out, err) = site
        .run(&[
            "submit",
            "--server",
            &api.server.base,
            "--token",
            &token,
            "--tender",
            tender,
            "--lot",
            "1",
            &envelope,
        ])
        .await?;
    anyhow::ensure!(ok, "submit {email}: {out}{err}");
    Ok((token, org))
}
