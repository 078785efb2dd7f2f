//! Group commit of bank notifications. A bank sends many notifications at once (the collecting
//! bank replays its day, every bidder pays in the last hour); one transaction each spends most of
//! the database's time on statements and commits, not on money. Notifications that arrive while a
//! batch is being written wait and go together in the next one; each request is answered only after
//! the commit that recorded it, so nothing is acknowledged that a crash could lose. An idle intake
//! adds no delay: a lone notification is a batch of one.
//!
//! Each batch locks the sealed audit chain of every tender it pays into, first, and holds it until
//! the commit: batches that pay into one tender take turns, whichever writer or server writes them,
//! and each decides on balances and payers the others committed (`credit`). Batches written side by
//! side that share a tender would wait for each other, so notifications go to writers by tender:
//! one tender's payments are written by the same writer, and writers rarely wait on each other's
//! chains. A tender everyone pays into at once gets one writer whose batches grow instead. Each
//! batch tells the intake the tenders of the accounts it read; an account not yet seen goes by its
//! number, and should its batch meet another writer's on a chain, the lock orders them.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use super::bank::{Notification, Receipt, record_all};
use crate::deposit::Payment;
use crate::error::{DomainError, DomainResult};
use crate::time::Clock;

/// Most notifications in one transaction.
const MAX_BATCH: usize = 64;
/// Requests waiting for each writer beyond the batch it is writing; more wait for room.
const QUEUE: usize = 256;
/// Accounts whose tender the intake remembers.
const ROUTES: usize = 100_000;

struct Request {
    notification: Notification,
    answer: oneshot::Sender<DomainResult<Receipt>>,
}

/// The one way notifications are recorded while the server runs.
#[derive(Clone)]
pub struct NotificationIntake {
    writers: Arc<[mpsc::Sender<Request>]>,
    routes: Arc<Routes>,
}

impl std::fmt::Debug for NotificationIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationIntake").finish_non_exhaustive()
    }
}

impl NotificationIntake {
    /// How many writers [`start`](Self::start) starts: one per core, at least two. While one
    /// waits for the database the other builds its batch, so both cores work (one writer left 46 %
    /// of them idle at 64 clients). Batches that pay into one tender are ordered by its chain's lock
    /// (`credit`), so writers need not be apart to be right; they are kept apart by tender so they
    /// rarely wait on each other. On two cores shared with PostgreSQL, two writers credited
    /// 8,300–9,300/s at 64 clients where one credited 5,800–7,500/s, and three no more than two
    /// (docs/performance.md).
    pub fn writers() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
    }

    /// Starts the writers on the current Tokio runtime, writing through `db` (on PostgreSQL a pool
    /// of [`writers`](Self::writers) connections with generic plans, `store::connect_generic_plans`);
    /// they stop when the last handle is dropped.
    pub fn start(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        let writers = Self::writers();
        let routes = Arc::new(Routes::default());
        let writers: Vec<mpsc::Sender<Request>> = (0..writers)
            .map(|_| {
                let (requests, queue) = mpsc::channel(QUEUE);
                tokio::spawn(write_batches(
                    db.clone(),
                    clock.clone(),
                    routes.clone(),
                    queue,
                ));
                requests
            })
            .collect();
        Self {
            writers: writers.into(),
            routes,
        }
    }

    /// Records a verified notification and answers once it is committed (or refused).
    pub async fn receive(&self, payment: Payment, body_sha256: String) -> DomainResult<Receipt> {
        let writer = self.writer_for(&payment.account_no);
        let (answer, answered) = oneshot::channel();
        let request = Request {
            notification: Notification {
                payment,
                body_sha256,
            },
            answer,
        };
        if writer.send(request).await.is_err() {
            return Err(stopped());
        }
        answered.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// The writer of the account's tender, as learned from the batches written so far; of the
    /// account number itself until then (a batch reads the account anyway: no read here).
    fn writer_for(&self, account_no: &str) -> &mpsc::Sender<Request> {
        let tender = self.routes.get(account_no);
        let mut hasher = DefaultHasher::new();
        tender.as_deref().unwrap_or(account_no).hash(&mut hasher);
        let lane = usize::try_from(hasher.finish() % self.writers.len() as u64).unwrap_or(0);
        &self.writers[lane]
    }
}

/// Account number → its tender, learned from the batches: which tender an account belongs to never
/// changes. Past [`ROUTES`] accounts it starts again: the routes are only a hint for spreading the
/// work, never what decides where money goes.
#[derive(Default)]
struct Routes(Mutex<HashMap<String, String>>);

impl Routes {
    fn get(&self, account_no: &str) -> Option<String> {
        self.lock().get(account_no).cloned()
    }

    fn learn(&self, tenders: Vec<(String, String)>) {
        let mut routes = self.lock();
        if routes.len() + tenders.len() > ROUTES {
            routes.clear();
        }
        routes.extend(tenders);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // The map holds no invariant a panic could break halfway.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn stopped() -> DomainError {
    DomainError::internal("the notification intake has stopped")
}

async fn write_batches(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    routes: Arc<Routes>,
    mut queue: mpsc::Receiver<Request>,
) {
    let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
    // Waits for the first request, then takes whatever else has queued meanwhile, without
    // waiting for more.
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let notifications: Vec<Notification> =
            batch.iter().map(|r| r.notification.clone()).collect();
        let recorded = record_all(&db, &notifications, clock.now()).await;
        routes.learn(recorded.tenders);
        for (request, answer) in batch.drain(..).zip(recorded.answers) {
            // The client may have gone; what was recorded stays recorded.
            let _ = request.answer.send(answer);
        }
    }
}
