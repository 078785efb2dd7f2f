//! The local folder store of the embedded default: `objects/ab/cd/<sha256>`, each written to
//! `tmp/` first, flushed to disk and renamed into place, so a crash never leaves half an object
//! under a name.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use std::io::{Read, Write};
use tenderhall_domain::ports::{
    BoxFuture, ByteStream, DocumentStore, StoreError, StoredObject, is_record_name, is_sha256_hex,
};
use tokio::fs::{self, File};
use tokio::io::AsyncWriteExt;

use bytes::{Bytes, BytesMut};

use super::Hasher;

/// Read and write size: large enough that system calls and channel hand-offs cost little.
const PIECE: usize = 1024 * 1024;

pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store under `root` (created if missing). Temporary files older than a day, left by a crash,
    /// are removed.
    pub async fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root.join("objects")).await?;
        fs::create_dir_all(root.join("tmp")).await?;
        let store = Self {
            root: root.to_owned(),
        };
        store.sweep_tmp(Duration::from_secs(24 * 3600)).await?;
        Ok(store)
    }

    async fn sweep_tmp(&self, older_than: Duration) -> io::Result<()> {
        let mut entries = fs::read_dir(self.root.join("tmp")).await?;
        while let Some(entry) = entries.next_entry().await? {
            let stale = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .map(|t| SystemTime::now().duration_since(t).unwrap_or_default() > older_than)
                .unwrap_or(false);
            if stale {
                let _ = fs::remove_file(entry.path()).await;
            }
        }
        Ok(())
    }

    /// Where an object lives.
    /// Where a named record lives: `records/` beside `objects/`.
    fn record_path(&self, name: &str) -> Result<PathBuf, StoreError> {
        if !is_record_name(name) {
            return Err(StoreError::NotFound(name.to_owned()));
        }
        Ok(self.root.join("records").join(name))
    }

    pub fn object_path(&self, sha256: &str) -> PathBuf {
        self.root
            .join("objects")
            .join(&sha256[..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    async fn write(&self, mut body: ByteStream, max_size: u64) -> Result<StoredObject, StoreError> {
        let tmp = self
            .root
            .join("tmp")
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        // Writing and hashing run on two blocking threads while this task takes in the next
        // pieces: the upload runs at the speed of the slowest of the three, not of their sum.
        let (tx, rx) = tokio::sync::mpsc::channel::<Piece>(WRITE_QUEUE);
        let (hash_tx, hash_rx) = tokio::sync::mpsc::channel::<Piece>(WRITE_QUEUE);
        let writer = tokio::task::spawn_blocking({
            let tmp = tmp.clone();
            move || write_to(&tmp, rx)
        });
        let hasher = tokio::task::spawn_blocking(move || hash_all(hash_rx));
        let mut size: u64 = 0;
        let received: Result<(), StoreError> = async {
            // Uploads arrive in pieces of a few KiB; gathered into 1 MiB pieces they cross to the
            // writer thread a thousand times per GiB instead of a hundred thousand.
            let mut gathered = BytesMut::with_capacity(PIECE);
            while let Some(piece) = body.next().await {
                let piece = piece.map_err(StoreError::Upload)?;
                size += piece.len() as u64;
                if size > max_size {
                    return Err(StoreError::TooLarge(max_size));
                }
                gathered.extend_from_slice(&piece);
                if gathered.len() >= PIECE {
                    let full = std::mem::replace(&mut gathered, BytesMut::with_capacity(PIECE));
                    if !send_both(&tx, &hash_tx, full.freeze()).await {
                        // The writer stopped: its error is reported below.
                        return Ok(());
                    }
                }
            }
            if !gathered.is_empty() && !send_both(&tx, &hash_tx, gathered.freeze()).await {
                return Ok(());
            }
            let _ = tx.send(Piece::End).await;
            let _ = hash_tx.send(Piece::End).await;
            Ok(())
        }
        .await;
        drop((tx, hash_tx));
        let stopped = |e| StoreError::Unavailable(format!("the writer stopped: {e}"));
        let written = writer.await.map_err(stopped)?;
        let hashed = hasher.await.map_err(stopped)?;
        let sha256 = match (received, written, hashed) {
            (Ok(()), Ok(()), Some(sha256)) => sha256,
            (Err(e), _, _) | (Ok(()), Err(e), _) => {
                let _ = fs::remove_file(&tmp).await;
                return Err(e);
            }
            (Ok(()), Ok(()), None) => {
                let _ = fs::remove_file(&tmp).await;
                return Err(StoreError::Unavailable(
                    "the hashing thread stopped".to_owned(),
                ));
            }
        };
        let dest = self.object_path(&sha256);
        if fs::try_exists(&dest).await.unwrap_or(false) {
            // Content-addressed: the same bytes are stored already.
            let _ = fs::remove_file(&tmp).await;
            return Ok(StoredObject { sha256, size });
        }
        let dir = dest
            .parent()
            .map(Path::to_owned)
            .unwrap_or_else(|| self.root.clone());
        fs::create_dir_all(&dir).await.map_err(unavailable)?;
        fs::rename(&tmp, &dest).await.map_err(unavailable)?;
        // The rename itself is durable once the folder is flushed.
        if let Ok(folder) = File::open(&dir).await {
            let _ = folder.sync_all().await;
        }
        Ok(StoredObject { sha256, size })
    }

    async fn open_object(&self, sha256: &str) -> Result<File, StoreError> {
        if !is_sha256_hex(sha256) {
            return Err(StoreError::NotFound(sha256.to_owned()));
        }
        File::open(self.object_path(sha256))
            .await
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => StoreError::NotFound(sha256.to_owned()),
                _ => unavailable(e),
            })
    }
}

fn unavailable(e: io::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Pieces handed to the writer thread; `End` marks a complete upload, so a channel closed without
/// it (the upload failed or was dropped) leaves no object.
enum Piece {
    Data(Bytes),
    End,
}

const WRITE_QUEUE: usize = 4;

async fn send_both(
    writer: &tokio::sync::mpsc::Sender<Piece>,
    hasher: &tokio::sync::mpsc::Sender<Piece>,
    piece: Bytes,
) -> bool {
    hasher.send(Piece::Data(piece.clone())).await.is_ok()
        && writer.send(Piece::Data(piece)).await.is_ok()
}

/// The writer thread: appends each piece to `tmp`; at `End`, flushes the file to disk.
fn write_to(tmp: &Path, mut rx: tokio::sync::mpsc::Receiver<Piece>) -> Result<(), StoreError> {
    let file = std::fs::File::create(tmp).map_err(unavailable)?;
    let mut out = std::io::BufWriter::with_capacity(PIECE, file);
    loop {
        match rx.blocking_recv() {
            Some(Piece::Data(piece)) => out.write_all(&piece).map_err(unavailable)?,
            Some(Piece::End) => break,
            None => return Err(StoreError::Upload(io::Error::other("the upload stopped"))),
        }
    }
    let file = out.into_inner().map_err(|e| unavailable(e.into_error()))?;
    // On disk before it gets a name: a receipt may be issued for it next.
    file.sync_all().map_err(unavailable)
}

/// The hashing thread: the SHA-256 of every piece up to `End`; `None` if the upload stopped first.
fn hash_all(mut rx: tokio::sync::mpsc::Receiver<Piece>) -> Option<String> {
    let mut hasher = Hasher::new();
    loop {
        match rx.blocking_recv()? {
            Piece::Data(piece) => hasher.update(&piece),
            Piece::End => return Some(hasher.hex()),
        }
    }
}

/// Streams a stored file back: a blocking thread reads ahead of the client and a second one hashes
/// what it read, so the download runs at the speed of the slower, not of both in turn. The last
/// piece is held back until the hash is checked: a corrupted object ends in an error before its last
/// byte, so no client ever receives it whole.
fn read_and_verify(mut file: std::fs::File, expected: String) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(READ_AHEAD);
    let (hash_tx, hash_rx) = tokio::sync::mpsc::channel::<Piece>(READ_AHEAD);
    let hashed = tokio::task::spawn_blocking(move || hash_all(hash_rx));
    tokio::task::spawn_blocking(move || {
        loop {
            let mut buf = vec![0u8; PIECE];
            let n = match read_full(&mut file, &mut buf) {
                Ok(n) => n,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            if n == 0 {
                let _ = hash_tx.blocking_send(Piece::End);
                return;
            }
            buf.truncate(n);
            let piece = Bytes::from(buf);
            if hash_tx.blocking_send(Piece::Data(piece.clone())).is_err()
                || tx.blocking_send(Ok(piece)).is_err()
            {
                return; // the client went away
            }
        }
    });
    struct State {
        rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
        hashed: Option<tokio::task::JoinHandle<Option<String>>>,
        held: Option<Bytes>,
        expected: String,
    }
    let state = State {
        rx,
        hashed: Some(hashed),
        held: None,
        expected,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        loop {
            match st.rx.recv().await {
                Some(Ok(piece)) => {
                    if let Some(previous) = st.held.replace(piece) {
                        return Some((Ok(previous), st));
                    }
                }
                Some(Err(e)) => {
                    st.hashed = None;
                    return Some((Err(e), st));
                }
                None => {
                    // The reader is done: release the last piece only if the hash matches.
                    let handle = st.hashed.take()?;
                    let outcome = match handle.await {
                        Ok(Some(actual)) if actual == st.expected => st.held.take().map(Ok),
                        Ok(Some(actual)) => Some(Err(io::Error::other(format!(
                            "stored object {} is corrupted: its bytes hash to {actual}",
                            st.expected
                        )))),
                        _ => Some(Err(io::Error::other("reading the stored object stopped"))),
                    };
                    return outcome.map(|o| (o, st));
                }
            }
        }
    }))
}

/// Reads until `buf` is full or the file ends.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

const READ_AHEAD: usize = 4;

impl DocumentStore for LocalStore {
    fn put(
        &self,
        body: ByteStream,
        max_size: u64,
    ) -> BoxFuture<'_, Result<StoredObject, StoreError>> {
        Box::pin(self.write(body, max_size))
    }

    fn get(&self, sha256: &str) -> BoxFuture<'_, Result<ByteStream, StoreError>> {
        let sha256 = sha256.to_owned();
        Box::pin(async move {
            let file = self.open_object(&sha256).await?.into_std().await;
            Ok(read_and_verify(file, sha256))
        })
    }

    fn verify(&self, sha256: &str) -> BoxFuture<'_, Result<StoredObject, StoreError>> {
        let sha256 = sha256.to_owned();
        Box::pin(async move {
            let file = self.open_object(&sha256).await?.into_std().await;
            let expected = sha256.clone();
            tokio::task::spawn_blocking(move || {
                let mut file = file;
                let mut hasher = Hasher::new();
                let mut buf = vec![0u8; PIECE];
                let mut size = 0u64;
                loop {
                    let n = file.read(&mut buf).map_err(unavailable)?;
                    if n == 0 {
                        break;
                    }
                    size += n as u64;
                    hasher.update(&buf[..n]);
                }
                let actual = hasher.hex();
                if actual == expected {
                    Ok(StoredObject {
                        sha256: expected,
                        size,
                    })
                } else {
                    Err(StoreError::Corrupted { expected, actual })
                }
            })
            .await
            .map_err(|e| StoreError::Unavailable(format!("the scrub stopped: {e}")))?
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let probe = self
                .root
                .join("tmp")
                .join(format!("ready-{}", uuid::Uuid::new_v4().simple()));
            fs::write(&probe, b"ok").await.map_err(unavailable)?;
            fs::remove_file(&probe).await.map_err(unavailable)?;
            Ok(())
        })
    }

    fn put_record(&self, name: &str, bytes: Vec<u8>) -> BoxFuture<'_, Result<(), StoreError>> {
        let name = name.to_owned();
        Box::pin(async move {
            let path = self.record_path(&name)?;
            if fs::try_exists(&path).await.map_err(unavailable)? {
                return Ok(());
            }
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).await.map_err(unavailable)?;
            }
            // Whole or not at all: written aside, synced, then renamed into place.
            let tmp = self
                .root
                .join("tmp")
                .join(format!("{}.record", uuid::Uuid::new_v4().simple()));
            let mut file = File::create(&tmp).await.map_err(unavailable)?;
            file.write_all(&bytes).await.map_err(unavailable)?;
            file.sync_all().await.map_err(unavailable)?;
            fs::rename(&tmp, &path).await.map_err(unavailable)?;
            Ok(())
        })
    }

    fn get_record(&self, name: &str) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        let name = name.to_owned();
        Box::pin(async move {
            let path = self.record_path(&name)?;
            match fs::read(&path).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    fn name(&self) -> &'static str {
        "local"
    }
}
