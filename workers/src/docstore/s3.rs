//! The S3 store (MinIO, Garage, Ceph, AWS): objects live at `objects/<sha256>` in one bucket,
//! addressed path-style.
//!
//! An upload's name is its SHA-256, known only once the last byte has arrived, so a large upload
//! goes to `staging/<random>` as a multipart upload driven here part by part (rust-s3's own
//! streaming upload starts many parts at once and holds them all in memory), then is copied under
//! its name. At most three parts are in memory: one filling and two on their way.
//! A small upload is hashed in memory and written under its name directly.

use std::time::Duration;

use futures_util::StreamExt;
use s3::error::S3Error;
use s3::{Bucket, Region, creds::Credentials, serde_types::Part};
use tenderhall_domain::ports::{
    BoxFuture, ByteStream, DocumentStore, StoreError, StoredObject, is_record_name, is_sha256_hex,
};

use super::{Hasher, verifying_stream};

/// The size of each multipart part: the least S3 takes, so that three parts in memory (one filling,
/// two on their way, each copied once more by rust-s3) stay well under 64 MiB. 10,000 parts of
/// 5 MiB is far above the 5 GiB a document may have.
pub const PART_SIZE: usize = 5 * 1024 * 1024;

/// A single CopyObject call copies at most 5 GiB; larger documents would need a multipart copy.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// Parts on their way to the server at once.
const PARTS_IN_FLIGHT: usize = 2;

const CONTENT_TYPE: &str = "application/octet-stream";
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the bucket is and how to sign for it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

pub struct S3Store {
    /// For requests with a small body: each is bounded by rust-s3's request timeout.
    bucket: Box<Bucket>,
    /// For streamed downloads: a 1 GiB document to a slow client outlasts any request timeout.
    streaming: Box<Bucket>,
}

impl S3Store {
    /// Connects to the bucket, creating it when it does not exist yet (an existing bucket answers
    /// 409, which is fine).
    pub async fn open(settings: &S3Settings) -> Result<Self, StoreError> {
        let region = Region::Custom {
            region: settings.region.clone(),
            endpoint: settings.endpoint.trim_end_matches('/').to_owned(),
        };
        let credentials = Credentials::new(
            Some(&settings.access_key),
            Some(&settings.secret_key),
            None,
            None,
            None,
        )
        .map_err(|e| StoreError::Unavailable(format!("S3 credentials: {e}")))?;
        let bucket = Bucket::new(&settings.bucket, region.clone(), credentials.clone())
            .map_err(s3_error)?
            .with_path_style();
        let mut streaming = bucket.clone();
        streaming.request_timeout = None;
        let store = Self { bucket, streaming };
        let created = Bucket::create_with_path_style(
            &settings.bucket,
            region,
            credentials,
            s3::BucketConfiguration::default(),
        )
        .await;
        match created {
            Ok(_) | Err(S3Error::HttpFailWithBody(409, _)) => {}
            // Not allowed to create buckets, or the server wants another location constraint: the
            // bucket may still exist and take writes, which is all that matters.
            Err(e) => {
                if let Err(probe) = store.check().await {
                    return Err(StoreError::Unavailable(format!(
                        "the bucket could not be created ({e}) and does not take writes ({probe})"
                    )));
                }
            }
        }
        Ok(store)
    }

    fn object_key(sha256: &str) -> String {
        format!("objects/{sha256}")
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match self.bucket.object_exists(key).await {
            Ok(found) => Ok(found),
            Err(S3Error::HttpFailWithBody(404, _)) => Ok(false),
            Err(e) => Err(s3_error(e)),
        }
    }

    async fn write(&self, mut body: ByteStream, max_size: u64) -> Result<StoredObject, StoreError> {
        let mut hasher = Hasher::new();
        let mut size: u64 = 0;
        let mut buffer: Vec<u8> = Vec::with_capacity(PART_SIZE);
        let mut multipart: Option<Multipart> = None;
        let outcome: Result<(), StoreError> = async {
            while let Some(piece) = body.next().await {
                let piece = piece.map_err(StoreError::Upload)?;
                size += piece.len() as u64;
                if size > max_size {
                    return Err(StoreError::TooLarge(max_size));
                }
                hasher.update(&piece);
                let mut rest = &piece[..];
                while !rest.is_empty() {
                    let take = rest.len().min(PART_SIZE - buffer.len());
                    buffer.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if buffer.len() == PART_SIZE {
                        let part = std::mem::replace(&mut buffer, Vec::with_capacity(PART_SIZE));
                        let upload = match multipart.as_mut() {
                            Some(upload) => upload,
                            None => multipart.insert(Multipart::start(&self.bucket).await?),
                        };
                        upload.send(&self.bucket, part).await?;
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            if let Some(upload) = multipart {
                upload.abort(&self.bucket).await;
            }
            return Err(e);
        }
        let sha256 = hasher.hex();
        let key = Self::object_key(&sha256);
        match multipart {
            None => {
                // Small: the whole object is in memory and its name is known.
                if !self.exists(&key).await? {
                    self.bucket
                        .put_object_with_content_type(&key, &buffer, CONTENT_TYPE)
                        .await
                        .map_err(s3_error)?;
                }
            }
            Some(mut upload) => {
                if !buffer.is_empty() {
                    upload.send(&self.bucket, buffer).await?;
                }
                let staging = upload.key.clone();
                if let Err(e) = upload.complete(&self.bucket).await {
                    upload.abort(&self.bucket).await;
                    return Err(e);
                }
                let copied = if self.exists(&key).await? {
                    Ok(())
                } else {
                    self.bucket
                        .copy_object_internal(&staging, &key)
                        .await
                        .map(drop)
                        .map_err(s3_error)
                };
                // The staging copy is not a document: it goes whether or not the copy worked.
                if let Err(e) = self.bucket.delete_object(&staging).await {
                    tracing::warn!(key = %staging, error = %e, "could not remove a staging upload");
                }
                copied?;
            }
        }
        Ok(StoredObject { sha256, size })
    }

    async fn open_stream(&self, sha256: &str) -> Result<ByteStream, StoreError> {
        if !is_sha256_hex(sha256) {
            return Err(StoreError::NotFound(sha256.to_owned()));
        }
        let response = self
            .streaming
            .get_object_stream(Self::object_key(sha256))
            .await
            .map_err(|e| match e {
                S3Error::HttpFailWithBody(404, _) => StoreError::NotFound(sha256.to_owned()),
                e => s3_error(e),
            })?;
        Ok(Box::pin(
            response
                .bytes
                .map(|piece| piece.map_err(std::io::Error::other)),
        ))
    }
}

/// A multipart upload under way: the parts acknowledged and those still on their way.
struct Multipart {
    key: String,
    upload_id: String,
    parts: Vec<Part>,
    sent: u32,
    in_flight: std::collections::VecDeque<tokio::task::JoinHandle<Result<Part, S3Error>>>,
}

impl Multipart {
    async fn start(bucket: &Bucket) -> Result<Self, StoreError> {
        let key = format!("staging/{}", uuid::Uuid::new_v4().simple());
        let started = bucket
            .initiate_multipart_upload(&key, CONTENT_TYPE)
            .await
            .map_err(s3_error)?;
        Ok(Self {
            key,
            upload_id: started.upload_id,
            parts: Vec::new(),
            sent: 0,
            in_flight: std::collections::VecDeque::new(),
        })
    }

    /// Sends a part in the background, waiting first while two are already on their way: a server
    /// that takes parts slowly one by one (as many do) takes them faster two at a time, and two
    /// parts (with the copy rust-s3 makes of each) still keep the memory of an upload bounded.
    async fn send(&mut self, bucket: &Bucket, part: Vec<u8>) -> Result<(), StoreError> {
        while self.in_flight.len() >= PARTS_IN_FLIGHT {
            self.settle_one().await?;
        }
        self.sent += 1;
        let number = self.sent;
        let bucket = bucket.clone();
        let (key, upload_id) = (self.key.clone(), self.upload_id.clone());
        self.in_flight.push_back(tokio::spawn(async move {
            bucket
                .put_multipart_chunk(part, &key, number, &upload_id, CONTENT_TYPE)
                .await
        }));
        Ok(())
    }

    async fn settle_one(&mut self) -> Result<(), StoreError> {
        if let Some(task) = self.in_flight.pop_front() {
            let part = task
                .await
                .map_err(|e| StoreError::Unavailable(format!("part upload stopped: {e}")))?
                .map_err(s3_error)?;
            self.parts.push(part);
        }
        Ok(())
    }

    async fn complete(&mut self, bucket: &Bucket) -> Result<(), StoreError> {
        while !self.in_flight.is_empty() {
            self.settle_one().await?;
        }
        self.parts.sort_by_key(|p| p.part_number);
        bucket
            .complete_multipart_upload(&self.key, &self.upload_id, std::mem::take(&mut self.parts))
            .await
            .map(drop)
            .map_err(s3_error)
    }

    /// Gives the parts back to the server; failing that, a bucket lifecycle rule for incomplete
    /// multipart uploads collects them (see docs/operations.md).
    async fn abort(mut self, bucket: &Bucket) {
        for task in self.in_flight.drain(..) {
            let _ = task.await;
        }
        if let Err(e) = bucket.abort_upload(&self.key, &self.upload_id).await {
            tracing::warn!(key = %self.key, error = %e, "could not abort a multipart upload");
        }
    }
}

fn s3_error(e: S3Error) -> StoreError {
    StoreError::Unavailable(format!("S3: {e}"))
}

impl DocumentStore for S3Store {
    fn put(
        &self,
        body: ByteStream,
        max_size: u64,
    ) -> BoxFuture<'_, Result<StoredObject, StoreError>> {
        Box::pin(self.write(body, max_size.min(MAX_OBJECT_SIZE)))
    }

    fn get(&self, sha256: &str) -> BoxFuture<'_, Result<ByteStream, StoreError>> {
        let sha256 = sha256.to_owned();
        Box::pin(async move {
            let stream = self.open_stream(&sha256).await?;
            Ok(verifying_stream(stream, sha256))
        })
    }

    fn verify(&self, sha256: &str) -> BoxFuture<'_, Result<StoredObject, StoreError>> {
        let sha256 = sha256.to_owned();
        Box::pin(async move {
            let mut stream = self.open_stream(&sha256).await?;
            let mut hasher = Hasher::new();
            let mut size = 0u64;
            while let Some(piece) = stream.next().await {
                let piece = piece.map_err(|e| StoreError::Unavailable(e.to_string()))?;
                size += piece.len() as u64;
                hasher.update(&piece);
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
            // A write, not just a look: a read-only or full bucket is not ready either.
            let probe =
                self.bucket
                    .put_object_with_content_type("readyz/probe", b"ok", "text/plain");
            match tokio::time::timeout(READY_TIMEOUT, probe).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(s3_error(e)),
                Err(_) => Err(StoreError::Unavailable(format!(
                    "S3 did not answer within {} s",
                    READY_TIMEOUT.as_secs()
                ))),
            }
        })
    }

    fn put_record(&self, name: &str, bytes: Vec<u8>) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = format!("records/{name}");
        let valid = is_record_name(name);
        Box::pin(async move {
            if !valid {
                return Err(StoreError::NotFound(key));
            }
            if self.exists(&key).await? {
                return Ok(());
            }
            self.bucket
                .put_object_with_content_type(&key, &bytes, "application/json")
                .await
                .map_err(s3_error)?;
            Ok(())
        })
    }

    fn get_record(&self, name: &str) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        let key = format!("records/{name}");
        let valid = is_record_name(name);
        Box::pin(async move {
            if !valid {
                return Err(StoreError::NotFound(key));
            }
            match self.bucket.get_object(&key).await {
                Ok(response) => Ok(Some(response.to_vec())),
                Err(S3Error::HttpFailWithBody(404, _)) => Ok(None),
                Err(e) => Err(s3_error(e)),
            }
        })
    }

    fn name(&self) -> &'static str {
        "s3"
    }
}
