//! The local folder store of the embedded default: `objects/ab/cd/<sha256>`, each written to
//! `tmp/` first, flushed to disk and renamed into place, so a crash never leaves half an object
//! under a name.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use tenderhall_domain::ports::{
    BoxFuture, ByteStream, DocumentStore, StoreError, StoredObject, is_sha256_hex,
};
use tokio::fs::{self, File};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use tokio_util::io::ReaderStream;

use super::{Hasher, verifying_stream};

const PIECE: usize = 256 * 1024;

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
        let mut file = File::create(&tmp).await.map_err(unavailable)?;
        let mut hasher = Hasher::new();
        let mut size: u64 = 0;
        let outcome: Result<(), StoreError> = async {
            while let Some(piece) = body.next().await {
                let piece = piece.map_err(StoreError::Upload)?;
                size += piece.len() as u64;
                if size > max_size {
                    return Err(StoreError::TooLarge(max_size));
                }
                hasher.update(&piece);
                file.write_all(&piece).await.map_err(unavailable)?;
            }
            file.flush().await.map_err(unavailable)?;
            // On disk before it gets a name: a receipt may be issued for it next.
            file.sync_all().await.map_err(unavailable)?;
            Ok(())
        }
        .await;
        drop(file);
        if let Err(e) = outcome {
            let _ = fs::remove_file(&tmp).await;
            return Err(e);
        }
        let sha256 = hasher.hex();
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
            let file = self.open_object(&sha256).await?;
            Ok(verifying_stream(
                Box::pin(ReaderStream::with_capacity(file, PIECE)),
                sha256,
            ))
        })
    }

    fn verify(&self, sha256: &str) -> BoxFuture<'_, Result<StoredObject, StoreError>> {
        let sha256 = sha256.to_owned();
        Box::pin(async move {
            let mut file = self.open_object(&sha256).await?;
            let mut hasher = Hasher::new();
            let mut buf = vec![0u8; PIECE];
            let mut size = 0u64;
            loop {
                let n = file.read(&mut buf).await.map_err(unavailable)?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                hasher.update(&buf[..n]);
            }
            let actual = hasher.hex();
            if actual == sha256 {
                Ok(StoredObject { sha256, size })
            } else {
                Err(StoreError::Corrupted {
                    expected: sha256,
                    actual,
                })
            }
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

    fn name(&self) -> &'static str {
        "local"
    }
}
