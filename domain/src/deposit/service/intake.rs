//! Group commit of bank notifications. A bank sends many notifications at once (the collecting
//! bank replays its day, every bidder pays in the last hour); one transaction each spends most of
//! the database's time on statements and commits, not on money. Notifications that arrive while a
//! batch is being written wait and go together in the next one; each request is answered only after
//! the commit that recorded it, so nothing is acknowledged that a crash could lose. An idle intake
//! adds no delay: a lone notification is a batch of one.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::bank::{Notification, Receipt, receive_all};
use crate::deposit::Payment;
use crate::error::{DomainError, DomainResult};
use crate::time::Clock;

/// Most notifications in one transaction.
const MAX_BATCH: usize = 64;
/// Batches written at once. A batch spends most of its time waiting on round trips to the
/// database, so several overlap; they meet only on the audit chain tips, locked last and briefly.
const WRITERS: usize = 8;
/// Requests waiting beyond the batches being written; more wait for room.
const QUEUE: usize = 1024;

struct Request {
    notification: Notification,
    answer: oneshot::Sender<DomainResult<Receipt>>,
}

/// The one way notifications are recorded while the server runs.
#[derive(Clone)]
pub struct NotificationIntake {
    requests: mpsc::Sender<Request>,
}

impl std::fmt::Debug for NotificationIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationIntake").finish_non_exhaustive()
    }
}

impl NotificationIntake {
    /// Starts the writers on the current Tokio runtime; they stop when the last handle is dropped.
    pub fn start(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        let (requests, queue) = mpsc::channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..WRITERS {
            tokio::spawn(write_batches(db.clone(), clock.clone(), queue.clone()));
        }
        Self { requests }
    }

    /// Records a verified notification and answers once it is committed (or refused).
    pub async fn receive(&self, payment: Payment, body_sha256: String) -> DomainResult<Receipt> {
        let (answer, answered) = oneshot::channel();
        let request = Request {
            notification: Notification {
                payment,
                body_sha256,
            },
            answer,
        };
        if self.requests.send(request).await.is_err() {
            return Err(stopped());
        }
        answered.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> DomainError {
    DomainError::internal("the notification intake has stopped")
}

async fn write_batches(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    queue: Arc<Mutex<mpsc::Receiver<Request>>>,
) {
    let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            // One writer gathers at a time: it waits for the first request, then takes whatever
            // else has queued meanwhile, without waiting for more.
            let mut queue = queue.lock().await;
            if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        }
        let notifications: Vec<Notification> =
            batch.iter().map(|r| r.notification.clone()).collect();
        let answers = receive_all(&db, &notifications, clock.now()).await;
        for (request, answer) in batch.drain(..).zip(answers) {
            // The client may have gone; what was recorded stays recorded.
            let _ = request.answer.send(answer);
        }
    }
}
