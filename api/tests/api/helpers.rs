//! The API test harness: a real server on a free port over a fresh database (SQLite by default,
//! PostgreSQL when `TENDERHALL_TEST_DATABASE_URL` is set), with a clock the test moves.

use std::sync::Arc;

use chrono::Utc;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tenderhall_api::config::Secret;
use tenderhall_api::{AppState, Settings};
use tenderhall_domain::account::service::create_operator;
use tenderhall_domain::keys::MasterKey;
use tenderhall_domain::time::ManualClock;
use tokio::sync::oneshot;

pub type TestResult = anyhow::Result<()>;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub state: AppState,
    pub settings: Settings,
    _dir: TempDir,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    pub async fn spawn() -> anyhow::Result<Self> {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_sandbox() -> anyhow::Result<Self> {
        Self::spawn_with(|s| s.sandbox = true).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = tenderhall_domain::store::fresh_test_database_url(dir.path()).await?;
        let mut settings = Settings {
            data_dir: dir.path().join("data"),
            listen: "127.0.0.1:0".to_owned(),
            database_url: Some(url),
            master_key: Some(Secret::new(MasterKey::generate()?.to_base64())),
            ..Settings::default()
        };
        configure(&mut settings);
        let clock = ManualClock::new(Utc::now());
        let state =
            tenderhall_api::platform::open(settings.clone(), Arc::new(clock.clone())).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let server_state = state.clone();
        tokio::spawn(async move {
            let _ = tenderhall_api::server::serve(listener, server_state, async {
                let _ = stopped.await;
            })
            .await;
        });
        Ok(Self {
            base,
            client: reqwest::Client::new(),
            clock,
            state,
            settings,
            _dir: dir,
            _stop: stop,
        })
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut builder = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            builder = builder.bearer_auth(token);
        }
        builder
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<Response> {
        Ok(self.request(Method::GET, path, token).send().await?)
    }

    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> anyhow::Result<Response> {
        Ok(self
            .request(Method::POST, path, token)
            .json(body)
            .send()
            .await?)
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> anyhow::Result<Response> {
        Ok(self.request(Method::DELETE, path, token).send().await?)
    }

    /// Registers `email` with a new organization of `kind`; returns (account_id, organization_id).
    pub async fn register(&self, email: &str, kind: &str) -> anyhow::Result<(String, String)> {
        let res = self
            .post("/api/v1/accounts", &registration(email, kind), None)
            .await?;
        anyhow::ensure!(
            res.status() == StatusCode::CREATED,
            "registration of {email}: {}",
            res.text().await?
        );
        let body: Value = res.json().await?;
        Ok((text(&body["account_id"]), text(&body["organization_id"])))
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let res = self
            .post(
                "/api/v1/sessions",
                &json!({"email": email, "password": password}),
                None,
            )
            .await?;
        anyhow::ensure!(
            res.status() == StatusCode::CREATED,
            "sign-in of {email}: {}",
            res.text().await?
        );
        let body: Value = res.json().await?;
        Ok(text(&body["token"]))
    }

    /// Registers and signs in; returns (token, organization_id).
    pub async fn member(&self, email: &str, kind: &str) -> anyhow::Result<(String, String)> {
        let (_, org) = self.register(email, kind).await?;
        Ok((self.sign_in(email, PASSWORD).await?, org))
    }

    /// An operator, created as `tenderhall admin create-operator` does; returns its token.
    pub async fn operator(&self) -> anyhow::Result<String> {
        create_operator(
            self.state.db(),
            "ops@tenderhall.test",
            PASSWORD,
            "Operator",
            self.state.now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        self.sign_in("ops@tenderhall.test", PASSWORD).await
    }

    /// Creates and publishes the tender `body` describes for `token`'s organization; returns its id.
    pub async fn publish_tender(&self, token: &str, body: &Value) -> anyhow::Result<String> {
        let res = self.post("/api/v1/tenders", body, Some(token)).await?;
        anyhow::ensure!(
            res.status() == StatusCode::CREATED,
            "create: {}",
            res.text().await?
        );
        let id = text(&res.json::<Value>().await?["id"]);
        let res = self
            .post(
                &format!("/api/v1/tenders/{id}/publish"),
                &json!({}),
                Some(token),
            )
            .await?;
        anyhow::ensure!(
            res.status() == StatusCode::OK,
            "publish: {}",
            res.text().await?
        );
        Ok(id)
    }

    /// Fails unless the deposit ledger balances (`tenderhall ledger check`), as after every money
    /// scenario.
    pub async fn assert_ledger_sound(&self) -> anyhow::Result<()> {
        let report = tenderhall_domain::deposit::service::check_ledger(self.state.db()).await?;
        anyhow::ensure!(report.is_sound(), "ledger unsound: {report:?}");
        Ok(())
    }

    /// Publishes a goods tender of `token`'s organization: one lot of 100,000 CNY with the largest
    /// deposit allowed (2 %), its bid deadline `days` from now. Returns its id.
    pub async fn published_goods_tender(
        &self,
        token: &str,
        title: &str,
        days: i64,
    ) -> anyhow::Result<String> {
        let body = json!({
            "title": title, "kind": "goods", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
            "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
            "bid_deadline": (self.state.now() + chrono::TimeDelta::days(days)).to_rfc3339(),
        });
        self.publish_tender(token, &body).await
    }

    /// Runs every job that is due now (deadlines, mail, draws), as a worker would.
    pub async fn drain(&self) -> anyhow::Result<()> {
        let runner = tenderhall_workers::runner::Runner::new(tenderhall_api::cli::worker_context(
            &self.state,
        )?);
        while runner.run_one().await? {}
        Ok(())
    }

    /// The messages in the embedded default's outbox folder, oldest first, quoted-printable undone.
    pub fn outbox(&self) -> anyhow::Result<Vec<String>> {
        let dir = self.settings.outbox_dir();
        let mut found = Vec::new();
        if dir.is_dir() {
            let mut paths: Vec<_> = std::fs::read_dir(&dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect();
            paths.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
            for path in paths {
                found.push(tenderhall_workers::testing::decoded_mail(
                    &std::fs::read_to_string(path)?,
                ));
            }
        }
        Ok(found)
    }

    /// A verified supervisor's token.
    pub async fn supervisor(&self, operator: &str) -> anyhow::Result<String> {
        let (token, org) = self
            .member("supervisor@jianguan.test", "supervisor")
            .await?;
        let res = self
            .post(
                &format!("/api/v1/organizations/{org}/verify"),
                &json!({}),
                Some(operator),
            )
            .await?;
        anyhow::ensure!(
            res.status() == StatusCode::OK,
            "verify supervisor: {}",
            res.text().await?
        );
        Ok(token)
    }
}

pub const PASSWORD: &str = "correct-horse-42";

pub fn registration(email: &str, kind: &str) -> Value {
    json!({
        "email": email,
        "password": PASSWORD,
        "name": "张三",
        "organization": {
            "name": format!("{kind} 有限公司"),
            "kind": kind,
            "credit_code": "91110000100000000R",
            "basic_account": "6222 0200 1234 5678",
        }
    })
}

pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// Asserts a problem+json answer with `status` and `code`; returns the body.
pub async fn assert_problem(
    res: Response,
    status: StatusCode,
    code: &str,
) -> anyhow::Result<Value> {
    let got = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = res.json().await?;
    anyhow::ensure!(got == status, "expected {status}, got {got}: {body}");
    anyhow::ensure!(
        content_type == "application/problem+json",
        "content type {content_type}"
    );
    anyhow::ensure!(body["code"] == code, "expected code {code}: {body}");
    anyhow::ensure!(body["status"] == status.as_u16(), "status field: {body}");
    anyhow::ensure!(
        !text(&body["detail"]).is_empty() && !text(&body["title"]).is_empty(),
        "{body}"
    );
    Ok(body)
}
