//! The S3 document store against a real S3-compatible server on loopback (moto; `.ci/run` provides
//! it, and elsewhere these tests say they were skipped). The same promises as the local folder:
//! content-addressed, whole or nothing, checked on read.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use s3::{Bucket, Region, creds::Credentials};
use tenderhall_domain::ports::{ByteStream, DocumentStore, StoreError};
use tenderhall_workers::docstore::{S3Settings, S3Store, s3::PART_SIZE};
use tenderhall_workers::testing::S3Server;

type TestResult = anyhow::Result<()>;

fn stream_of(pieces: Vec<Vec<u8>>) -> ByteStream {
    Box::pin(futures_util::stream::iter(
        pieces.into_iter().map(|p| Ok(Bytes::from(p))),
    ))
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

async fn read_all(store: &S3Store, sha: &str) -> anyhow::Result<Vec<u8>> {
    let mut stream = store.get(sha).await?;
    let mut out = Vec::new();
    while let Some(piece) = stream.next().await {
        out.extend_from_slice(&piece?);
    }
    Ok(out)
}

/// The bucket itself, to look behind the store's back.
fn raw_bucket(settings: &S3Settings) -> anyhow::Result<Box<Bucket>> {
    let region = Region::Custom {
        region: settings.region.clone(),
        endpoint: settings.endpoint.clone(),
    };
    let credentials = Credentials::new(
        Some(&settings.access_key),
        Some(&settings.secret_key),
        None,
        None,
        None,
    )?;
    Ok(Bucket::new(&settings.bucket, region, credentials)?.with_path_style())
}

async fn keys_under(bucket: &Bucket, prefix: &str) -> anyhow::Result<Vec<String>> {
    let pages = bucket.list(prefix.to_owned(), None).await?;
    Ok(pages
        .into_iter()
        .flat_map(|page| page.contents.into_iter().map(|o| o.key))
        .collect())
}

#[tokio::test]
async fn s3_documents_come_back_byte_for_byte_under_their_sha256() -> TestResult {
    let Some(server) = S3Server::start().await? else {
        return Ok(());
    };
    let settings = server.settings("documents");
    let store = S3Store::open(&settings).await?;
    // Empty, tiny, and across the multipart boundary: one byte short of two parts, exactly two,
    // and two and a bit (each part is PART_SIZE).
    let big = |n: usize| -> Vec<u8> { (0..n).map(|i| (i % 251) as u8).collect() };
    for content in [
        Vec::new(),
        "招标文件 v1".as_bytes().to_vec(),
        big(2 * PART_SIZE - 1),
        big(2 * PART_SIZE),
        big(2 * PART_SIZE + 12345),
    ] {
        let pieces: Vec<Vec<u8>> = content.chunks(300_000).map(<[u8]>::to_vec).collect();
        let stored = store.put(stream_of(pieces), u64::MAX).await?;
        assert_eq!(stored.sha256, sha256(&content));
        assert_eq!(stored.size, content.len() as u64);
        assert_eq!(read_all(&store, &stored.sha256).await?, content);
        assert_eq!(
            store.verify(&stored.sha256).await?.size,
            content.len() as u64
        );
    }
    // The staging uploads are gone; only named objects remain.
    let bucket = raw_bucket(&settings)?;
    assert!(keys_under(&bucket, "staging/").await?.is_empty());
    assert_eq!(keys_under(&bucket, "objects/").await?.len(), 5);

    // Opening the store again finds the bucket there (409 from create is fine).
    let again = S3Store::open(&settings).await?;
    assert_eq!(read_all(&again, &sha256(b"")).await?, Vec::<u8>::new());
    Ok(())
}

#[tokio::test]
async fn s3_an_upload_over_the_limit_or_broken_halfway_leaves_no_object() -> TestResult {
    let Some(server) = S3Server::start().await? else {
        return Ok(());
    };
    let settings = server.settings("limits");
    let store = S3Store::open(&settings).await?;
    let bucket = raw_bucket(&settings)?;

    let limit = (PART_SIZE + 10) as u64;
    let result = store
        .put(
            stream_of(vec![vec![7; PART_SIZE], vec![7; PART_SIZE]]),
            limit,
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::TooLarge(l)) if l == limit),
        "{result:?}"
    );
    let broken: ByteStream = Box::pin(futures_util::stream::iter(vec![
        Ok(Bytes::from(vec![1u8; PART_SIZE + 1])),
        Err(std::io::Error::other("connection reset")),
    ]));
    assert!(matches!(
        store.put(broken, u64::MAX).await,
        Err(StoreError::Upload(_))
    ));
    assert!(keys_under(&bucket, "objects/").await?.is_empty());
    assert!(keys_under(&bucket, "staging/").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn s3_a_corrupted_stored_object_is_detected_on_read_and_by_the_scrub() -> TestResult {
    let Some(server) = S3Server::start().await? else {
        return Ok(());
    };
    let settings = server.settings("corruption");
    let store = S3Store::open(&settings).await?;
    let content: Vec<u8> = (0..PART_SIZE + 5000).map(|i| (i % 13) as u8).collect();
    let stored = store
        .put(stream_of(vec![content.clone()]), u64::MAX)
        .await?;
    let mut tampered = content;
    tampered[0] ^= 0x01;
    raw_bucket(&settings)?
        .put_object(format!("objects/{}", stored.sha256), &tampered)
        .await?;

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
    assert!(matches!(
        store.get(&"0".repeat(64)).await,
        Err(StoreError::NotFound(_))
    ));
    Ok(())
}

#[tokio::test]
async fn s3_the_readiness_check_fails_while_the_server_is_down() -> TestResult {
    let Some(mut server) = S3Server::start().await? else {
        return Ok(());
    };
    let store = S3Store::open(&server.settings("ready")).await?;
    assert!(store.check().await.is_ok());
    server.stop().await?;
    let started = std::time::Instant::now();
    assert!(matches!(
        store.check().await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(10));
    Ok(())
}
