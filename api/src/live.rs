//! The live view of auctions (docs/auctions.md "Live"): a room per watched auction in this
//! process, which sends every accepted bid to its watchers once and in order, and the auction's
//! status changes as the clock makes them.
//!
//! Bids reach a room three ways, any of which may be late or doubled: this process's own bids
//! right after they commit, other processes' bids through PostgreSQL `LISTEN`, and the room's own
//! look at the auction a few times a second, which fetches from the database whatever the other
//! two missed. The room passes on bid `n + 1` only after bid `n`, so a watcher sees the sequence
//! whole, whichever way each bid came.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tenderhall_domain::auction;
use tenderhall_domain::id::{LotId, TenderId};
use tenderhall_domain::time::Clock;
use tokio::sync::{broadcast, mpsc};

/// How often a room looks at its auction: the clock's changes (a countdown's end) reach watchers
/// within this, and so do bids another process committed if its notification was lost.
const LOOK_EVERY: Duration = Duration::from_millis(250);
/// Messages a slow watcher may fall behind by before it is caught up from the database.
const WATCHER_BUFFER: usize = 1024;
/// Bids fetched per look when catching up.
const CATCH_UP: u64 = 500;

/// One message to watchers: its bid number, if it is a bid, and its JSON text.
#[derive(Debug, Clone)]
pub struct LiveMessage {
    pub seq: Option<i64>,
    pub text: Arc<str>,
}

type Key = (String, String);

struct Room {
    watchers: broadcast::Sender<LiveMessage>,
    inbox: mpsc::UnboundedSender<Value>,
}

type Rooms = Arc<Mutex<HashMap<Key, Room>>>;
/// The rooms of this process.
#[derive(Clone)]
pub struct LiveHub {
    rooms: Rooms,
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    /// Whether this process listens on PostgreSQL yet: from the first watcher on, until the hub
    /// is gone.
    listening: Arc<AtomicBool>,
}

impl LiveHub {
    pub fn start(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self {
            rooms: Arc::default(),
            db,
            clock,
            listening: Arc::default(),
        }
    }

    /// Watches the auction: messages from now on. Opens the room if nobody watched it yet.
    pub fn watch(&self, tender: &TenderId, lot: &LotId) -> broadcast::Receiver<LiveMessage> {
        let key = (tender.to_string(), lot.to_string());
        // Other processes' bids come through PostgreSQL (SQLite runs one process).
        if tenderhall_domain::store::is_postgres(&self.db)
            && !self.listening.swap(true, Ordering::SeqCst)
        {
            tokio::spawn(listen(Arc::downgrade(&self.rooms), self.db.clone()));
        }
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(room) = rooms.get(&key) {
            return room.watchers.subscribe();
        }
        let (watchers, receiver) = broadcast::channel(WATCHER_BUFFER);
        let (inbox, rx) = mpsc::unbounded_channel();
        rooms.insert(
            key.clone(),
            Room {
                watchers: watchers.clone(),
                inbox,
            },
        );
        tokio::spawn(run_room(self.clone(), key, watchers, rx));
        receiver
    }

    /// A committed bid (`auction::bid_event`), to the room of its auction if anyone watches it.
    pub fn publish(&self, event: Value) {
        deliver(&self.rooms, event);
    }

    /// Closes the room once its last watcher left; answers whether it did.
    fn close_if_empty(&self, key: &Key) -> bool {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        match rooms.get(key) {
            Some(room) if room.watchers.receiver_count() == 0 => {
                rooms.remove(key);
                true
            }
            Some(_) => false,
            None => true,
        }
    }
}

fn deliver(rooms: &Mutex<HashMap<Key, Room>>, event: Value) {
    let key = (
        event["tender"].as_str().unwrap_or_default().to_owned(),
        event["lot"].as_str().unwrap_or_default().to_owned(),
    );
    let rooms = rooms.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(room) = rooms.get(&key) {
        let _ = room.inbox.send(event);
    }
}

/// Other processes' bids, from PostgreSQL, for as long as the hub lives. A lost connection is
/// made again; what was missed meanwhile the rooms fetch themselves.
async fn listen(rooms: Weak<Mutex<HashMap<Key, Room>>>, db: DatabaseConnection) {
    use sea_orm::sqlx::postgres::PgListener;
    while rooms.strong_count() > 0 {
        let pool = db.get_postgres_connection_pool();
        let mut listener = match PgListener::connect_with(pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "auction listener: cannot connect; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(auction::LIVE_CHANNEL).await {
            tracing::warn!(error = %e, "auction listener: LISTEN failed; trying again");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // The listener reads in a task of its own, so that this loop can notice a hub that is
        // gone (a test's, a stopping server's) without cancelling a read halfway.
        let (notes, mut received) = mpsc::channel::<String>(1024);
        let reader = tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(note) => {
                        if notes.send(note.payload().to_owned()).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "auction listener: connection lost");
                        return;
                    }
                }
            }
        });
        loop {
            let payload = match tokio::time::timeout(Duration::from_secs(1), received.recv()).await
            {
                Err(_) if rooms.strong_count() == 0 => {
                    reader.abort();
                    return;
                }
                Err(_) => continue,
                // The reader lost its connection: connect again.
                Ok(None) => break,
                Ok(Some(payload)) => payload,
            };
            let Some(rooms) = rooms.upgrade() else {
                reader.abort();
                return;
            };
            match serde_json::from_str::<Value>(&payload) {
                Ok(event) => deliver(&rooms, event),
                Err(e) => tracing::warn!(error = %e, "auction listener: a bad payload"),
            }
        }
    }
}

fn message(seq: Option<i64>, value: &Value) -> LiveMessage {
    LiveMessage {
        seq,
        text: Arc::from(value.to_string()),
    }
}

/// A bid from the database, as the live view sends it (its countdown's end comes with the status
/// message that follows a catch-up).
pub fn stored_bid(b: &auction::BidLine) -> Value {
    json!({
        "type": "bid",
        "seq": b.seq,
        "pseudonym": b.pseudonym,
        "amount": b.amount.amount().to_string(),
        "accepted_at": b.accepted_at,
    })
}

/// The status message: where the auction stands, the clock applied.
pub fn status_message(p: &auction::Pulse, now: chrono::DateTime<chrono::Utc>) -> Value {
    let status = match p.result.as_deref() {
        Some("sold") => "sold",
        Some(_) => "failed",
        None => p.status.as_str(),
    };
    json!({
        "type": "status",
        "status": status,
        "result": p.result,
        "ends_at": p.ends_at,
        "last_seq": p.last_seq,
        "current_price": p.current_price.amount().to_string(),
        "next_valid": p.next_valid.map(|m| m.amount().to_string()),
        "server_time": now,
    })
}

async fn run_room(
    hub: LiveHub,
    key: Key,
    watchers: broadcast::Sender<LiveMessage>,
    mut inbox: mpsc::UnboundedReceiver<Value>,
) {
    let (Ok(tender), Ok(lot)) = (TenderId::parse(&key.0), LotId::parse(&key.1)) else {
        hub.close_if_empty(&key);
        return;
    };
    // Watchers read the state after they subscribed: the room passes on what comes after it.
    let mut last = None::<auction::Pulse>;
    let mut sent = match auction::pulse(&hub.db, &tender, &lot, hub.clock.now()).await {
        Ok(p) => {
            let seq = p.last_seq;
            last = Some(p);
            seq
        }
        Err(_) => 0,
    };
    let mut look = tokio::time::interval(LOOK_EVERY);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = inbox.recv() => {
                let Some(event) = event else { break };
                let Some(seq) = event["seq"].as_i64() else { continue };
                if seq == sent + 1 {
                    sent = seq;
                    let _ = watchers.send(message(Some(seq), &event));
                } else if seq > sent + 1 {
                    // One came first that another was due before: fetch the ones between.
                    sent = catch_up(&hub, &tender, &lot, sent, &watchers).await;
                }
            }
            _ = look.tick() => {
                if hub.close_if_empty(&key) {
                    return;
                }
                let now = hub.clock.now();
                let Ok(pulse) = auction::pulse(&hub.db, &tender, &lot, now).await else { continue };
                if pulse.last_seq > sent {
                    sent = catch_up(&hub, &tender, &lot, sent, &watchers).await;
                }
                let changed = last.as_ref().is_none_or(|l| {
                    l.status != pulse.status || l.result != pulse.result
                });
                if changed {
                    let _ = watchers.send(message(None, &status_message(&pulse, now)));
                }
                last = Some(pulse);
            }
        }
    }
}

/// Sends the bids after `sent` from the database, in order, then a status message; answers the
/// last bid sent.
async fn catch_up(
    hub: &LiveHub,
    tender: &TenderId,
    lot: &LotId,
    mut sent: i64,
    watchers: &broadcast::Sender<LiveMessage>,
) -> i64 {
    let Ok(bids) = auction::bids_after(&hub.db, tender, lot, sent, CATCH_UP).await else {
        return sent;
    };
    for b in &bids {
        sent = b.seq;
        let _ = watchers.send(message(Some(b.seq), &stored_bid(b)));
    }
    let now = hub.clock.now();
    if let Ok(pulse) = auction::pulse(&hub.db, tender, lot, now).await {
        let _ = watchers.send(message(None, &status_message(&pulse, now)));
    }
    sent
}
