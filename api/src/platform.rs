//! Opening the platform: data folder, database and migrations, master key, platform key.

use std::sync::Arc;

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tenderhall_domain::keys::service::load_or_create_platform_signer;
use tenderhall_domain::ports::DocumentStore;
use tenderhall_domain::time::Clock;
use tenderhall_migrations::Migrator;
use tenderhall_migrations::MigratorTrait;
use tenderhall_workers::docstore::LocalStore;

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
        .with_context(|| {
            format!(
                "cannot open the database {}",
                tenderhall_domain::store::redact_url(&url)
            )
        })
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
    Ok(AppState::new(
        db,
        clock,
        settings,
        Arc::new(signer),
        master_key,
        store,
    ))
}

/// The document store: the data folder's `documents/` (S3 comes with the S3 adapter).
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn DocumentStore>> {
    if settings.s3_endpoint.is_some() {
        anyhow::bail!(
            "TENDERHALL_S3_ENDPOINT is set, but this version stores documents only in the data folder: \
             unset the TENDERHALL_S3_* variables"
        );
    }
    let root = settings.documents_dir();
    let store = LocalStore::open(&root)
        .await
        .with_context(|| format!("cannot open the document folder {}", root.display()))?;
    Ok(Arc::new(store))
}
