//! Tenderhall's background work. `tenderhall serve` runs it in-process; `tenderhall worker` runs it
//! alone, so api nodes and workers scale apart.
//!
//! - [`runner`]: claims due jobs from the durable queue and runs them; it sleeps until the next job
//!   is due (the chronograph), or until woken when an earlier one is added.
//! - [`jobs`]: the handlers, and the periodic signing of the audit heads.

pub mod bank;
pub mod docstore;
pub mod jobs;
pub mod mail;
pub mod runner;
#[cfg(feature = "test-support")]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tenderhall_domain::keys::PlatformSigner;
use tenderhall_domain::ports::DocumentStore;
use tenderhall_domain::time::Clock;
use tokio::sync::{Notify, watch};

/// What background work needs.
#[derive(Clone)]
pub struct WorkerContext {
    pub db: DatabaseConnection,
    pub signer: Arc<PlatformSigner>,
    pub clock: Arc<dyn Clock>,
    pub audit_head_interval: Duration,
    /// This worker's name in job leases.
    pub worker_id: String,
    /// How long a claimed job is this worker's before another may take it over.
    pub lease: Duration,
    /// The longest sleep between looks at the queue (jobs added by other processes).
    pub poll: Duration,
    /// Woken by this process when it adds a job that may be due sooner.
    pub wake: Arc<Notify>,
    pub mailer: Arc<mail::Mailer>,
    /// The sender of every message.
    pub mail_from: lettre::message::Mailbox,
    pub store: Arc<dyn DocumentStore>,
    /// Where refund instructions go.
    pub bank: Arc<dyn tenderhall_domain::ports::BankGateway>,
    /// Unwraps the lots' opening keys at the deadline.
    pub master_key: tenderhall_domain::keys::MasterKey,
    /// Yearly interest on deposits refunded (a failed lot).
    pub interest_rate: rust_decimal::Decimal,
    /// How long draws wait for contributions and answers.
    pub draws: tenderhall_domain::draw::DrawSettings,
    /// The portal's address, for the links in invitations.
    pub public_url: String,
}

impl WorkerContext {
    /// What the draw use cases need.
    pub fn draw_context(&self) -> tenderhall_domain::draw::service::DrawContext<'_> {
        tenderhall_domain::draw::service::DrawContext {
            master: &self.master_key,
            settings: self.draws,
            public_url: &self.public_url,
        }
    }
}

/// A worker name unique to this process: host, process id and a random suffix.
pub fn worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &suffix[..8])
}

/// Runs every background loop until `shutdown` turns true.
pub async fn run(ctx: WorkerContext, shutdown: watch::Receiver<bool>) {
    // The daily scrub schedules its successor; this starts the chain on a fresh database (once,
    // whatever the number of nodes: the job's key is its day).
    if let Err(e) =
        tenderhall_domain::tender::service::schedule_scrub(&ctx.db, ctx.clock.now()).await
    {
        tracing::warn!(error = %e, "could not schedule the document store scrub");
    }
    let heads = tokio::spawn(jobs::audit_heads::sign_periodically(
        ctx.clone(),
        shutdown.clone(),
    ));
    runner::Runner::new(ctx).run(shutdown).await;
    let _ = heads.await;
}
