//! Configuration: built-in defaults, then a TOML file given with `--config`, then `TENDERHALL_*`
//! environment variables (docs/spec/api-contract.md "Configuration"). Nothing needs to be set for the embedded
//! default: SQLite, documents and mail under `./tenderhall-data`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tenderhall_domain::deposit::DepositSettings;
use tenderhall_domain::draw::DrawSettings;
use tenderhall_domain::keys::MasterKey;
use tenderhall_domain::money::{Currency, Money};

mod values;

pub use self::values::Secret;
use self::values::{lenient_bool, lenient_opt_string};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// SQLite file, documents, mail outbox, generated master key.
    pub data_dir: PathBuf,
    pub listen: String,
    /// `sqlite://...` or `postgres://...`; empty: the SQLite file in the data folder.
    #[serde(deserialize_with = "lenient_opt_string")]
    pub database_url: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub sandbox: bool,
    /// Base64 of 32 bytes; required with PostgreSQL so that every node shares it.
    pub master_key: Option<Secret>,
    pub bank_secret: Option<Secret>,
    pub smtp_url: Option<Secret>,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub s3_endpoint: Option<String>,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub s3_bucket: Option<String>,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub s3_region: Option<String>,
    #[serde(deserialize_with = "lenient_opt_string")]
    pub s3_access_key: Option<String>,
    pub s3_secret_key: Option<Secret>,
    /// How long a sign-in lasts.
    pub session_ttl_minutes: u32,
    /// How often the heads of the audit chains are signed.
    pub audit_head_interval_seconds: u32,
    /// How long a claimed job is its worker's before another may take it over (the worker died).
    pub job_lease_seconds: u32,
    /// The longest a worker sleeps between looks at the queue for jobs added by other processes.
    pub job_poll_seconds: u32,
    /// Largest tender document accepted.
    pub max_document_bytes: u64,
    /// Largest sealed bid accepted (docs/spec/envelope.md: 512 MiB unless the tender says otherwise).
    pub max_bid_bytes: u64,
    /// Largest JSON request body.
    pub max_json_body_bytes: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy you run).
    #[serde(deserialize_with = "lenient_bool")]
    pub trust_forwarded_for: bool,
    /// `text` or `json` logs.
    pub log_format: String,
    /// The sender of the platform's mail.
    pub mail_from: String,
    /// The address people reach the platform at, for links in mail; empty: `http://` and the listen address.
    #[serde(deserialize_with = "lenient_opt_string")]
    pub public_url: Option<String>,
    /// The annual rate of interest paid on refunded deposits (a decimal, e.g. `0.0035` for 0.35 %;
    /// days / 360, docs/spec/rules.md "Money"). Empty: 0.0035.
    #[serde(deserialize_with = "lenient_opt_string")]
    pub deposit_interest_rate: Option<String>,
    /// The largest amount one bank notification may carry, in CNY (e.g. `10000000000.00`); a larger
    /// one is refused with 422. Empty: 10,000,000,000.00.
    #[serde(deserialize_with = "lenient_opt_string")]
    pub max_notification_amount: Option<String>,
    /// Expert draws may be requested from this many hours before the bid deadline (÷ a sandbox
    /// tender's accelerator).
    pub draw_window_hours: u32,
    /// Minutes supervisors (and the tenderer) have to post their random contributions to a draw.
    pub draw_contribution_minutes: u32,
    /// Hours an expert's invitation waits for an answer before the seat passes on.
    pub invitation_hours: u32,
    /// The repeat limit: an expert who sat on this many committees of one tenderer …
    pub expert_repeat_limit: u32,
    /// … within this many months is not drawn for that tenderer.
    pub expert_repeat_months: u32,
    /// Per-deployment values of the procedure table's unverified and local numbers (docs/spec/rules.md),
    /// e.g. `[procedures.overrides.construction] deposit_cap_yuan = "500000"`.
    pub procedures: tenderhall_domain::tender::procedure::ProcedureSettings,
}

/// Shows what `describe` shows: database passwords and secrets never reach a log.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in self.describe() {
            map.entry(&key, &value);
        }
        map.finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./tenderhall-data"),
            listen: "127.0.0.1:8080".to_owned(),
            database_url: None,
            sandbox: false,
            master_key: None,
            bank_secret: None,
            smtp_url: None,
            s3_endpoint: None,
            s3_bucket: None,
            s3_region: None,
            s3_access_key: None,
            s3_secret_key: None,
            session_ttl_minutes: 12 * 60,
            audit_head_interval_seconds: 60,
            job_lease_seconds: 60,
            job_poll_seconds: 5,
            max_document_bytes: 1024 * 1024 * 1024,
            max_bid_bytes: 512 * 1024 * 1024,
            max_json_body_bytes: 1024 * 1024,
            trust_forwarded_for: false,
            log_format: "text".to_owned(),
            mail_from: "Tenderhall <noreply@tenderhall.localhost>".to_owned(),
            public_url: None,
            deposit_interest_rate: None,
            max_notification_amount: None,
            draw_window_hours: 48,
            draw_contribution_minutes: 15,
            invitation_hours: 24,
            expert_repeat_limit: 3,
            expert_repeat_months: 12,
            procedures: Default::default(),
        }
    }
}

const ENV_KEYS: &[&str] = &[
    "data_dir",
    "listen",
    "database_url",
    "sandbox",
    "master_key",
    "bank_secret",
    "smtp_url",
    "s3_endpoint",
    "s3_bucket",
    "s3_region",
    "s3_access_key",
    "s3_secret_key",
    "session_ttl_minutes",
    "audit_head_interval_seconds",
    "job_lease_seconds",
    "job_poll_seconds",
    "max_document_bytes",
    "max_bid_bytes",
    "max_json_body_bytes",
    "trust_forwarded_for",
    "log_format",
    "mail_from",
    "public_url",
    "deposit_interest_rate",
    "max_notification_amount",
    "draw_window_hours",
    "draw_contribution_minutes",
    "invitation_hours",
    "expert_repeat_limit",
    "expert_repeat_months",
];

impl Settings {
    /// Defaults, then the TOML file, then the environment.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = config_file {
            if !path.is_file() {
                bail!("the configuration file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("TENDERHALL_").only(ENV_KEYS));
        Self::from_figment(figment)
    }

    /// Extracts and checks settings from layered providers.
    pub fn from_figment(figment: Figment) -> anyhow::Result<Self> {
        let settings: Settings = figment.extract().map_err(|e| {
            anyhow::anyhow!("the configuration is not valid: {e} (check the --config file and the TENDERHALL_* variables)")
        })?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "TENDERHALL_LOG_FORMAT must be `text` or `json`, not `{}`",
                self.log_format
            );
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            bail!(
                "TENDERHALL_DATABASE_URL must start with sqlite: or postgres://, not `{}`",
                tenderhall_domain::store::redact_url(url)
            );
        }
        self.procedures
            .validate()
            .map_err(|e| anyhow::anyhow!("[procedures] in the configuration file: {e}"))?;
        self.deposit_settings()?;
        self.mail_from.parse::<lettre::message::Mailbox>().map_err(|e| {
            anyhow::anyhow!("TENDERHALL_MAIL_FROM must be a mail address such as `Tenderhall <noreply@example.com>`: {e}")
        })?;
        if self.job_lease_seconds == 0 || self.job_poll_seconds == 0 {
            bail!(
                "TENDERHALL_JOB_LEASE_SECONDS and TENDERHALL_JOB_POLL_SECONDS must be at least 1"
            );
        }
        if self.session_ttl_minutes == 0 {
            bail!("TENDERHALL_SESSION_TTL_MINUTES must be at least 1");
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| {
            format!(
                "TENDERHALL_LISTEN must be an address and port such as 127.0.0.1:8080, not `{}`",
                self.listen
            )
        })
    }

    /// Where links in mail point.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) if !url.trim().is_empty() => url.trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.listen),
        }
    }

    pub fn documents_dir(&self) -> PathBuf {
        self.data_dir.join("documents")
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("tenderhall.sqlite3").display()
            ),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url().starts_with("postgres")
    }

    pub fn master_key_file(&self) -> PathBuf {
        self.data_dir.join("master.key")
    }

    /// The master key: from configuration, or (SQLite only) a key file generated in the data folder
    /// on first start, readable by the owner alone.
    pub fn resolve_master_key(&self) -> anyhow::Result<MasterKey> {
        if let Some(key) = &self.master_key {
            return MasterKey::from_base64(key.expose())
                .context("TENDERHALL_MASTER_KEY must be base64 of 32 bytes (make one with `openssl rand -base64 32`)");
        }
        if self.is_postgres() {
            bail!(
                "TENDERHALL_MASTER_KEY is required with PostgreSQL, so that every node shares it: \
                 make one with `openssl rand -base64 32`, keep it safe, and set it on every node"
            );
        }
        let path = self.master_key_file();
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the master key file {}", path.display()))?;
            return MasterKey::from_base64(&text).with_context(|| {
                format!(
                    "the master key file {} is damaged: it must hold base64 of 32 bytes",
                    path.display()
                )
            });
        }
        let key = MasterKey::generate()?;
        write_private_file(&path, key.to_base64().as_bytes())?;
        Ok(key)
    }

    /// The effective configuration, secrets shown only as set or not.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        fn secret(s: &Option<Secret>) -> String {
            if s.is_some() {
                "*** (set)".to_owned()
            } else {
                "(not set)".to_owned()
            }
        }
        fn plain(s: &Option<String>, default: &str) -> String {
            s.clone().unwrap_or_else(|| default.to_owned())
        }
        vec![
            ("TENDERHALL_DATA_DIR", self.data_dir.display().to_string()),
            ("TENDERHALL_LISTEN", self.listen.clone()),
            (
                "TENDERHALL_DATABASE_URL",
                tenderhall_domain::store::redact_url(&self.database_url()),
            ),
            (
                "TENDERHALL_SANDBOX",
                if self.sandbox {
                    "1 (sandbox: never use with real data)".to_owned()
                } else {
                    "0".to_owned()
                },
            ),
            (
                "TENDERHALL_MASTER_KEY",
                if self.master_key.is_some() {
                    "*** (set)".to_owned()
                } else if self.is_postgres() {
                    "(not set: required with PostgreSQL)".to_owned()
                } else {
                    format!("*** (key file {})", self.master_key_file().display())
                },
            ),
            (
                "TENDERHALL_BANK_SECRET",
                if self.sandbox && self.bank_secret.is_none() {
                    "*** (sandbox default)".to_owned()
                } else {
                    secret(&self.bank_secret)
                },
            ),
            (
                "TENDERHALL_SMTP_URL",
                if self.smtp_url.is_some() {
                    "*** (set)".to_owned()
                } else {
                    format!(
                        "(not set: mail goes to {})",
                        self.data_dir.join("outbox").display()
                    )
                },
            ),
            (
                "TENDERHALL_S3_ENDPOINT",
                plain(
                    &self.s3_endpoint,
                    "(not set: documents go to the data folder)",
                ),
            ),
            ("TENDERHALL_S3_BUCKET", plain(&self.s3_bucket, "(not set)")),
            ("TENDERHALL_S3_REGION", plain(&self.s3_region, "(not set)")),
            (
                "TENDERHALL_S3_ACCESS_KEY",
                plain(&self.s3_access_key, "(not set)"),
            ),
            ("TENDERHALL_S3_SECRET_KEY", secret(&self.s3_secret_key)),
            (
                "TENDERHALL_SESSION_TTL_MINUTES",
                self.session_ttl_minutes.to_string(),
            ),
            (
                "TENDERHALL_AUDIT_HEAD_INTERVAL_SECONDS",
                self.audit_head_interval_seconds.to_string(),
            ),
            (
                "TENDERHALL_JOB_LEASE_SECONDS",
                self.job_lease_seconds.to_string(),
            ),
            (
                "TENDERHALL_JOB_POLL_SECONDS",
                self.job_poll_seconds.to_string(),
            ),
            (
                "TENDERHALL_MAX_JSON_BODY_BYTES",
                self.max_json_body_bytes.to_string(),
            ),
            (
                "TENDERHALL_TRUST_FORWARDED_FOR",
                u8::from(self.trust_forwarded_for).to_string(),
            ),
            ("TENDERHALL_LOG_FORMAT", self.log_format.clone()),
            ("TENDERHALL_MAIL_FROM", self.mail_from.clone()),
            (
                "TENDERHALL_MAX_DOCUMENT_BYTES",
                self.max_document_bytes.to_string(),
            ),
            ("TENDERHALL_MAX_BID_BYTES", self.max_bid_bytes.to_string()),
            ("TENDERHALL_PUBLIC_URL", self.public_url()),
            (
                "TENDERHALL_DEPOSIT_INTEREST_RATE",
                self.deposit_settings()
                    .map(|d| d.interest_rate.to_string())
                    .unwrap_or_else(|e| e.to_string()),
            ),
            (
                "TENDERHALL_MAX_NOTIFICATION_AMOUNT",
                self.deposit_settings()
                    .map(|d| {
                        Money::from_minor_units(d.max_notification_fen, Currency::Cny)
                            .amount()
                            .to_string()
                    })
                    .unwrap_or_else(|e| e.to_string()),
            ),
            (
                "TENDERHALL_DRAW_WINDOW_HOURS",
                self.draw_window_hours.to_string(),
            ),
            (
                "TENDERHALL_DRAW_CONTRIBUTION_MINUTES",
                self.draw_contribution_minutes.to_string(),
            ),
            (
                "TENDERHALL_INVITATION_HOURS",
                self.invitation_hours.to_string(),
            ),
            (
                "TENDERHALL_EXPERT_REPEAT_LIMIT",
                self.expert_repeat_limit.to_string(),
            ),
            (
                "TENDERHALL_EXPERT_REPEAT_MONTHS",
                self.expert_repeat_months.to_string(),
            ),
        ]
    }

    /// The draw settings in their types, parsed once at start.
    pub fn draw_settings(&self) -> anyhow::Result<DrawSettings> {
        if self.draw_contribution_minutes == 0 || self.invitation_hours == 0 {
            bail!(
                "TENDERHALL_DRAW_CONTRIBUTION_MINUTES and TENDERHALL_INVITATION_HOURS must be at least 1"
            );
        }
        if self.expert_repeat_months == 0 || self.expert_repeat_months > 120 {
            bail!("TENDERHALL_EXPERT_REPEAT_MONTHS must be from 1 to 120");
        }
        Ok(DrawSettings {
            window: chrono::TimeDelta::hours(i64::from(self.draw_window_hours)),
            contribution_window: chrono::TimeDelta::minutes(i64::from(
                self.draw_contribution_minutes,
            )),
            invitation_validity: chrono::TimeDelta::hours(i64::from(self.invitation_hours)),
            max_evaluations_per_tenderer: self.expert_repeat_limit,
            repeat_months: self.expert_repeat_months,
        })
    }

    /// The deposit settings in their types, parsed once at start (the platform keeps them).
    pub fn deposit_settings(&self) -> anyhow::Result<DepositSettings> {
        let interest_rate = match self.deposit_interest_rate.as_deref() {
            None => DepositSettings::DEFAULT_INTEREST_RATE,
            Some(raw) => {
                let rate: rust_decimal::Decimal = raw.trim().parse().map_err(|_| {
                    anyhow::anyhow!(
                        "TENDERHALL_DEPOSIT_INTEREST_RATE must be a decimal such as 0.0035 (0.35 % a year), not `{raw}`"
                    )
                })?;
                if rate < rust_decimal::Decimal::ZERO || rate > rust_decimal::Decimal::ONE {
                    bail!("TENDERHALL_DEPOSIT_INTEREST_RATE must be between 0 and 1, not `{raw}`");
                }
                rate
            }
        };
        let max_notification_fen = match self.max_notification_amount.as_deref() {
            None => DepositSettings::DEFAULT_MAX_NOTIFICATION_FEN,
            Some(raw) => Money::parse(raw.trim(), Currency::Cny)
                .ok()
                .filter(Money::is_positive)
                .and_then(|m| m.minor_units().ok())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "TENDERHALL_MAX_NOTIFICATION_AMOUNT must be a positive amount in CNY such as 10000000000.00, not `{raw}`"
                    )
                })?,
        };
        Ok(DepositSettings {
            interest_rate,
            max_notification_fen,
        })
    }
}

/// Writes a file only its owner can read (0600), failing if it already exists.
fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests;
