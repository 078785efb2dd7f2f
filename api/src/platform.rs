//! Opening the platform: data folder, database and migrations, master key, platform key.

use std::sync::Arc;

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tenderhall_domain::deposit::service::NotificationIntake;
use tenderhall_domain::keys::service::load_or_create_platform_signer;
use tenderhall_domain::ports::DocumentStore;
use tenderhall_domain::time::Clock;
use tenderhall_migrations::Migrator;
use tenderhall_migrations::MigratorTrait;
use tenderhall_workers::docstore::s3::MAX_OBJECT_SIZE as S3_MAX_OBJECT_SIZE;
use tenderhall_workers::docstore::{LocalStore, S3Settings, S3Store};

use crate::config::Settings;
use crate::state::AppState;

/// Connects to the configured database, creating the data folder for the embedded default.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = settings.database_url();
    if !settings.is_postgres() {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data folder {}",
                settings.data_dir.display()
            )
        })?;
    }
    tenderhall_domain::store::connect(&url)
        .await
        .with_context(|| cannot_open("the database", &url))
}

/// The pool the bank notification intake writes through. PostgreSQL: sessions of its own that plan
/// each statement once (`store::connect_generic_plans`), one per writer. SQLite plans nothing per
/// value: the platform's pool.
async fn connect_intake(
    settings: &Settings,
    db: &DatabaseConnection,
) -> anyhow::Result<DatabaseConnection> {
    if !settings.is_postgres() {
        return Ok(db.clone());
    }
    let url = settings.database_url();
    let writers = u32::try_from(NotificationIntake::writers()).unwrap_or(8);
    tenderhall_domain::store::connect_generic_plans(&url, writers)
        .await
        .with_context(|| cannot_open("the notification intake's connections to", &url))
}

fn cannot_open(what: &str, url: &str) -> String {
    format!(
        "cannot open {what} {}",
        tenderhall_domain::store::redact_url(url)
    )
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("applying the database migrations failed")
}

/// Everything a server or a worker needs, ready: migrations applied, keys loaded.
pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    if !settings.is_postgres() {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data folder {}",
                settings.data_dir.display()
            )
        })?;
    }
    // Before touching the database: a missing key is a configuration error to report at once.
    let master_key = settings.resolve_master_key()?;
    let db = connect(&settings).await?;
    migrate(&db).await?;
    tenderhall_domain::tender::service::seed_calendar(&db, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("seeding the holiday calendar")?;
    let signer = load_or_create_platform_signer(&db, &master_key, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("loading the platform key")?;
    let store = open_store(&settings).await?;
    let intake_db = connect_intake(&settings, &db).await?;
    AppState::new(
        db,
        intake_db,
        clock,
        settings,
        Arc::new(signer),
        master_key,
        store,
    )
}

/// The document store: an S3 bucket when `TENDERHALL_S3_ENDPOINT` is set, otherwise the data
/// folder's `documents/`.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn DocumentStore>> {
    if let Some(endpoint) = &settings.s3_endpoint {
        let s3 = s3_settings(settings, endpoint)?;
        let store = S3Store::open(&s3).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot open the S3 bucket {} at {}: {e}",
                s3.bucket,
                s3.endpoint
            )
        })?;
        return Ok(Arc::new(store));
    }
    let root = settings.documents_dir();
    let store = LocalStore::open(&root)
        .await
        .with_context(|| format!("cannot open the document folder {}", root.display()))?;
    Ok(Arc::new(store))
}

fn s3_settings(settings: &Settings, endpoint: &str) -> anyhow::Result<S3Settings> {
    let missing =
        |name: &str| anyhow::anyhow!("TENDERHALL_S3_ENDPOINT is set, so {name} must be set too");
    if settings.max_document_bytes > S3_MAX_OBJECT_SIZE {
        anyhow::bail!(
            "TENDERHALL_MAX_DOCUMENT_BYTES is {}, but an S3 store takes documents of at most {} bytes",
            settings.max_document_bytes,
            S3_MAX_OBJECT_SIZE
        );
    }
    Ok(S3Settings {
        endpoint: endpoint.to_owned(),
        bucket: settings
            .s3_bucket
            .clone()
            .ok_or_else(|| missing("TENDERHALL_S3_BUCKET"))?,
        region: settings
            .s3_region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned()),
        access_key: settings
            .s3_access_key
            .clone()
            .ok_or_else(|| missing("TENDERHALL_S3_ACCESS_KEY"))?,
        secret_key: settings
            .s3_secret_key
            .as_ref()
            .map(|s| s.expose().to_owned())
            .ok_or_else(|| missing("TENDERHALL_S3_SECRET_KEY"))?,
    })
}
