//! The local folder document store: content-addressed, whole or nothing, checked on read.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tenderhall_domain::ports::{ByteStream, DocumentStore, StoreError};
use tenderhall_workers::docstore::LocalStore;

type TestResult = anyhow::Result<()>;

fn stream_of(pieces: Vec<Vec<u8>>) -> ByteStream {
    Box::pin(futures_util::stream::iter(
        pieces.into_iter().map(|p| Ok(Bytes::from(p))),
    ))
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

async fn read_all(store: &LocalStore, sha: &str) -> anyhow::Result<Vec<u8>> {
    let mut stream = store.get(sha).await?;
    let mut out = Vec::new();
    while let Some(piece) = stream.next().await {
        out.extend_from_slice(&piece?);
    }
    Ok(out)
}

fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    if e.path().is_dir() {
                        files_under(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn documents_come_back_byte_for_byte_under_their_sha256() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let big: Vec<u8> = (0..10 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    for content in [
        Vec::new(),
        b"x".to_vec(),
        "招标文件 v1".as_bytes().to_vec(),
        big,
    ] {
        let pieces: Vec<Vec<u8>> = content.chunks(100_000).map(<[u8]>::to_vec).collect();
        let stored = store.put(stream_of(pieces), u64::MAX).await?;
        assert_eq!(stored.sha256, sha256(&content));
        assert_eq!(stored.size, content.len() as u64);
        assert_eq!(read_all(&store, &stored.sha256).await?, content);
        assert_eq!(
            store.verify(&stored.sha256).await?.size,
            content.len() as u64
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_same_bytes_are_stored_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let a = store.put(stream_of(vec![b"same".to_vec()]), 100).await?;
    let b = store
        .put(stream_of(vec![b"sa".to_vec(), b"me".to_vec()]), 100)
        .await?;
    assert_eq!(a, b);
    assert_eq!(files_under(&dir.path().join("objects")), 1);
    assert_eq!(files_under(&dir.path().join("tmp")), 0);
    Ok(())
}

#[tokio::test]
async fn an_object_over_the_limit_is_refused_and_leaves_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let result = store
        .put(stream_of(vec![vec![0; 600], vec![0; 600]]), 1000)
        .await;
    assert!(
        matches!(result, Err(StoreError::TooLarge(1000))),
        "{result:?}"
    );
    assert_eq!(files_under(&dir.path().join("objects")), 0);
    assert_eq!(files_under(&dir.path().join("tmp")), 0);
    Ok(())
}

#[tokio::test]
async fn an_upload_that_fails_halfway_leaves_no_object() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let broken: ByteStream = Box::pin(futures_util::stream::iter(vec![
        Ok(Bytes::from_static(b"first half")),
        Err(std::io::Error::other("connection reset")),
    ]));
    assert!(matches!(
        store.put(broken, u64::MAX).await,
        Err(StoreError::Upload(_))
    ));
    assert_eq!(files_under(&dir.path().join("objects")), 0);

    // An upload cut off by a crash (the future dropped mid-way) leaves at most a temporary file,
    // never a named object.
    let stalled: ByteStream = Box::pin(
        futures_util::stream::iter(vec![Ok(Bytes::from_static(b"partial"))])
            .chain(futures_util::stream::pending()),
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), store.put(stalled, u64::MAX))
            .await
            .is_err()
    );
    assert_eq!(files_under(&dir.path().join("objects")), 0);
    Ok(())
}

#[tokio::test]
async fn a_corrupted_stored_object_is_detected_on_read_and_by_the_scrub() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    let stored = store
        .put(stream_of(vec![b"bill of quantities".to_vec()]), 1000)
        .await?;
    let path = store.object_path(&stored.sha256);
    let mut bytes = std::fs::read(&path)?;
    bytes[0] ^= 0x01;
    std::fs::write(&path, bytes)?;

    let err = read_all(&store, &stored.sha256)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("corrupted"), "{err}");
    assert!(matches!(
        store.verify(&stored.sha256).await,
        Err(StoreError::Corrupted { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn unknown_or_malformed_names_are_not_found() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = LocalStore::open(dir.path()).await?;
    assert!(matches!(
        store.get(&"0".repeat(64)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.get("../../etc/passwd").await,
        Err(StoreError::NotFound(_))
    ));
    Ok(())
}

#[tokio::test]
async fn the_readiness_check_fails_when_the_folder_is_gone() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("documents");
    let store = LocalStore::open(&root).await?;
    assert!(store.check().await.is_ok());
    std::fs::remove_dir_all(&root)?;
    std::fs::write(&root, b"not a folder")?;
    assert!(matches!(
        store.check().await,
        Err(StoreError::Unavailable(_))
    ));
    Ok(())
}
