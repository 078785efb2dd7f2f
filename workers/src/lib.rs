//! Tenderhall's background work. `tenderhall serve` runs it in-process; `tenderhall worker` runs it
//! alone, so api nodes and workers can scale apart.
//!
//! Today: the periodic signing of the audit chains' heads. The durable job queue and the
//! chronograph come with the background-work issue.

pub mod jobs;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tenderhall_domain::keys::PlatformSigner;
use tenderhall_domain::time::Clock;
use tokio::sync::watch;

/// What background work needs.
#[derive(Clone)]
pub struct WorkerContext {
    pub db: DatabaseConnection,
    pub signer: Arc<PlatformSigner>,
    pub clock: Arc<dyn Clock>,
    pub audit_head_interval: Duration,
}

/// Runs every background loop until `shutdown` turns true.
pub async fn run(ctx: WorkerContext, shutdown: watch::Receiver<bool>) {
    jobs::audit_heads::sign_periodically(ctx, shutdown).await;
}
