//! Ports: what the domain needs from the outside, implemented by adapters in `workers/`.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Bytes arriving or leaving a piece at a time, so memory stays flat whatever the size.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// An object in the document store: its content address and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Lowercase hex SHA-256 of the bytes: the object's name.
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the object is larger than the {0} bytes allowed")]
    TooLarge(u64),
    #[error("no stored object {0}")]
    NotFound(String),
    #[error("stored object {expected} is corrupted: its bytes hash to {actual}")]
    Corrupted { expected: String, actual: String },
    #[error("the document store is unavailable: {0}")]
    Unavailable(String),
    #[error("reading the upload failed: {0}")]
    Upload(std::io::Error),
}

/// Content-addressed, write-once storage of documents and bids. The platform never deletes an
/// object: records are kept for at least 15 years (政府采购法 Art 42).
pub trait DocumentStore: Send + Sync {
    /// Stores `body` as it arrives, hashing it on the way; refuses it past `max_size` bytes. An
    /// object appears whole or not at all, under its SHA-256.
    fn put(
        &self,
        body: ByteStream,
        max_size: u64,
    ) -> BoxFuture<'_, Result<StoredObject, StoreError>>;

    /// Streams an object back, checking its SHA-256 on the way: the stream ends with an error,
    /// instead of its last piece, when the stored bytes no longer match their name.
    fn get(&self, sha256: &str) -> BoxFuture<'_, Result<ByteStream, StoreError>>;

    /// Reads a whole object and checks its SHA-256 (the scrub).
    fn verify(&self, sha256: &str) -> BoxFuture<'_, Result<StoredObject, StoreError>>;

    /// Whether the store answers and takes writes (readiness).
    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Writes a small named record (a signed audit head) once: a record already stored under
    /// `name` is left as it is. The store is a second system beside the database, so a record
    /// kept here survives a rewrite of the database.
    fn put_record(&self, name: &str, bytes: Vec<u8>) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Reads a named record; `None` when there is none.
    fn get_record(&self, name: &str) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>>;

    /// `local` or `s3`, for logs and the effective configuration.
    fn name(&self) -> &'static str;
}

/// True for a record name the stores accept: lowercase letters, digits, `-`, `_`, `.` and `/`
/// between non-empty segments (never `..`).
pub fn is_record_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
                })
        })
}

/// True for a well-formed content address.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An instruction to the bank to pay a refund out of the collecting account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundInstruction {
    /// Also the bank's idempotency key: the same instruction sent twice pays once.
    pub refund_id: String,
    pub payee_account: String,
    pub amount_fen: i64,
    pub currency: String,
    pub memo: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the bank did not take the instruction: {0}")]
    Refused(String),
    #[error("the bank is unreachable: {0}")]
    Unavailable(String),
}

/// Where refund instructions go: a file the bank collects, or the bank's API. The bank confirms
/// each refund later with a signed confirmation; until then it is pending.
pub trait BankGateway: Send + Sync {
    /// Hands the instruction over; returns the bank's (or the file's) reference.
    fn send_refund(
        &self,
        instruction: &RefundInstruction,
    ) -> BoxFuture<'_, Result<String, GatewayError>>;

    /// `file`, `sandbox`, …, for logs.
    fn name(&self) -> &'static str;
}
