//! Group commit of bank notifications. A bank sends many notifications at once (the collecting
//! bank replays its day, every bidder pays in the last hour); one transaction each spends most of
//! the database's time on statements and commits, not on money. Notifications that arrive while a
//! batch is being written wait and go together in the next one; each request is answered only after
//! the commit that recorded it, so nothing is acknowledged that a crash could lose. An idle intake
//! adds no delay: a lone notification is a batch of one.
//!
//! Each batch appends to the audit chain of every tender it pays into, and a chain's tip is locked
//! until the commit. Batches written side by side that share a tender would wait for each other,
//! so notifications go to writers by tender: one tender's payments are always written by the same
//! writer, and writers never wait on each other's chains. A tender everyone pays into at once gets
//! one writer whose batches grow instead.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use tokio::sync::{mpsc, oneshot};

use super::bank::{Notification, Receipt, receive_all};
use crate::deposit::Payment;
use crate::deposit::store::virtual_accounts;
use crate::error::{DomainError, DomainResult};
use crate::time::Clock;

/// Most notifications in one transaction.
const MAX_BATCH: usize = 64;
/// Requests waiting for each writer beyond the batch it is writing; more wait for room.
const QUEUE: usize = 256;
/// Accounts whose tender the intake remembers. Past this it starts again: the routes are only a
/// hint for spreading the work, never what decides where money goes.
const ROUTES: usize = 100_000;

struct Request {
    notification: Notification,
    answer: oneshot::Sender<DomainResult<Receipt>>,
}

/// The one way notifications are recorded while the server runs.
#[derive(Clone)]
pub struct NotificationIntake {
    writers: Arc<[mpsc::Sender<Request>]>,
    /// Account number → its tender (`None`: not an account, the payment goes to suspense).
    routes: Arc<Mutex<HashMap<String, Option<String>>>>,
    db: DatabaseConnection,
}

impl std::fmt::Debug for NotificationIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationIntake").finish_non_exhaustive()
    }
}

impl NotificationIntake {
    /// Starts the writers on the current Tokio runtime; they stop when the last handle is dropped.
    pub fn start(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        // As many as there are cores for the work, and at least two, so that one batch is
        // written while another waits for its commit.
        let writers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
        let writers: Vec<mpsc::Sender<Request>> = (0..writers)
            .map(|_| {
                let (requests, queue) = mpsc::channel(QUEUE);
                tokio::spawn(write_batches(db.clone(), clock.clone(), queue));
                requests
            })
            .collect();
        Self {
            writers: writers.into(),
            routes: Arc::default(),
            db,
        }
    }

    /// Records a verified notification and answers once it is committed (or refused).
    pub async fn receive(&self, payment: Payment, body_sha256: String) -> DomainResult<Receipt> {
        let writer = self.writer_for(&payment.account_no).await?;
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

    /// The writer of the account's tender; of the account number itself when it names none.
    async fn writer_for(&self, account_no: &str) -> DomainResult<&mpsc::Sender<Request>> {
        let known = self.routes().get(account_no).cloned();
        let tender = match known {
            Some(tender) => tender,
            None => {
                // Once per account: which tender it belongs to never changes.
                let tender: Option<String> =
                    virtual_accounts::Entity::find_by_id(account_no.to_owned())
                        .select_only()
                        .column(virtual_accounts::Column::TenderId)
                        .into_tuple()
                        .one(&self.db)
                        .await?;
                let mut routes = self.routes();
                if routes.len() >= ROUTES {
                    routes.clear();
                }
                routes.insert(account_no.to_owned(), tender.clone());
                tender
            }
        };
        let mut hasher = DefaultHasher::new();
        tender.as_deref().unwrap_or(account_no).hash(&mut hasher);
        let lane = usize::try_from(hasher.finish() % self.writers.len() as u64).unwrap_or(0);
        Ok(&self.writers[lane])
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<String>>> {
        // The map holds no invariant a panic could break halfway.
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn stopped() -> DomainError {
    DomainError::internal("the notification intake has stopped")
}

async fn write_batches(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    mut queue: mpsc::Receiver<Request>,
) {
    let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
    // Waits for the first request, then takes whatever else has queued meanwhile, without
    // waiting for more.
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let notifications: Vec<Notification> =
            batch.iter().map(|r| r.notification.clone()).collect();
        let answers = receive_all(&db, &notifications, clock.now()).await;
        for (request, answer) in batch.drain(..).zip(answers) {
            // The client may have gone; what was recorded stays recorded.
            let _ = request.answer.send(answer);
        }
    }
}
