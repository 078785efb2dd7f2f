//! The sealed bid envelope, version 1, byte for byte as `docs/spec/envelope.md` specifies: a streaming
//! writer (`seal`) and a streaming reader (`Reader`) that checks an envelope without its keys (the
//! server at upload) or opens it with the lot's opening key (the opening). Pure: bytes in, bytes out,
//! no clock, no database, so it can be fuzzed.
//!
//! ```text
//! magic "THBID\0\x01\0" | header_len u32 BE | header JSON | sealed chunks | "SIG1" | Ed25519 signature
//! ```

use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::digest::{Context as Sha256, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};

pub mod hpke;
mod reader;

pub use self::reader::{Checked, Expect, check, open};

/// Key id of a raw public key: lowercase hex SHA-256 of its bytes (docs/spec/envelope.md "Conventions").
pub fn key_id(raw_public_key: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, raw_public_key))
}

/// True when `s` is a well-formed id of the API, `[A-Za-z0-9_-]{1,64}`: what the header's
/// `tender`, `lot` and `bidder` must be.
pub fn is_valid_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub const MAGIC: [u8; 8] = *b"THBID\x00\x01\x00";
pub const SIG_MAGIC: [u8; 4] = *b"SIG1";
pub const VERSION: u32 = 1;
pub const SUITE: &str = "HPKE-X25519-SHA256-AES256GCM/STREAM-AES256GCM-64K";
/// Plaintext bytes per chunk (the only value of version 1).
pub const CHUNK_SIZE: usize = 65_536;
pub const TAG_LEN: usize = 16;
/// A sealed chunk that is not the last.
pub const SEALED_CHUNK: usize = CHUNK_SIZE + TAG_LEN;
/// `SIG1` and the signature.
pub const TRAILER: usize = 4 + 64;
pub const MAX_HEADER: u32 = 16_384;
/// `enc` (32 bytes) and the sealed data key (32 + 16).
pub const WRAPPED_KEY_LEN: usize = 80;
const SIGNATURE_CONTEXT: &[u8] = b"tenderhall/bid-signature/v1|";

/// Why an envelope was refused. Each is its own case; `code` maps it to the API's codes.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not a Tenderhall bid envelope: the first 8 bytes are not the version 1 magic")]
    Magic,
    #[error("the header length {0} is outside 1..=16384")]
    HeaderLength(u32),
    #[error("the header is not the version 1 JSON object: {0}")]
    Header(String),
    #[error("envelope version {0} is not supported (only 1)")]
    Version(u32),
    #[error("suite `{0}` is not the version 1 suite")]
    Suite(String),
    #[error("chunk_size {0} is not 65536")]
    ChunkSize(u32),
    #[error("the body is not a sequence of sealed chunks ending in a shorter last chunk")]
    Layout,
    #[error("the trailer does not start with SIG1")]
    SigMagic,
    #[error("the envelope's `{field}` is `{found}`, not `{expected}`")]
    Binding {
        field: &'static str,
        found: String,
        expected: String,
    },
    #[error("the envelope is sealed to opening key {0}, not this lot's")]
    Recipient(String),
    #[error("signing key {0} is not a registered, unrevoked key of the bidder")]
    UnknownSigner(String),
    #[error("the bidder's signature does not verify")]
    Signature,
    #[error("the data key cannot be unwrapped with the lot's opening key")]
    WrappedKey,
    #[error("chunk {0} does not decrypt: changed, dropped, reordered or sealed with another key")]
    Chunk(u64),
    #[error("the plaintext is not a valid bid archive: {0}")]
    Archive(String),
    #[error("reading or writing failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("no randomness from the operating system")]
    Random,
    #[error("the key is not usable: {0}")]
    Key(String),
}

impl EnvelopeError {
    /// The stable code of the upload checks of docs/spec/envelope.md; failures only the opening can see are
    /// the bidder's (`revoked` at the opening).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Recipient(_) => "wrong_recipient",
            Self::UnknownSigner(_) | Self::Signature => "bad_signature",
            Self::WrappedKey | Self::Chunk(_) | Self::Archive(_) => "undecryptable",
            Self::Io(_) | Self::Random | Self::Key(_) => "envelope_io",
            _ => "bad_envelope",
        }
    }
}

/// The header, in the order written. Unknown and duplicate keys are refused (serde refuses a
/// duplicate field of a struct).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub v: u32,
    pub tender: String,
    pub lot: String,
    pub bidder: String,
    pub suite: String,
    pub recipient: String,
    pub signer: String,
    pub wrapped_key: String,
    pub chunk_size: u32,
    pub created_at: String,
}

/// The HPKE `info` binding the data key to one tender, lot and bidder.
pub fn hpke_info(tender: &str, lot: &str, bidder: &str) -> Vec<u8> {
    format!("tenderhall/bid/v1|{tender}|{lot}|{bidder}").into_bytes()
}

/// Nonce of chunk `index`: 11-byte big-endian index, then 1 for the last chunk, else 0.
pub(crate) fn chunk_nonce(index: u64, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[3..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(last);
    Nonce::assume_unique_for_key(nonce)
}

/// What sealing produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Lowercase hex SHA-256 of the whole envelope.
    pub sha256: String,
    pub size: u64,
}

/// Who seals, to whom.
pub struct SealParams<'a> {
    pub tender: &'a str,
    pub lot: &'a str,
    pub bidder: &'a str,
    /// The lot's X25519 opening public key, raw 32 bytes.
    pub opening_key: &'a [u8],
    pub signing_key: &'a Ed25519KeyPair,
    /// RFC 3339, the bidder's clock (informative).
    pub created_at: String,
}

/// Seals `plaintext` (the bid archive) into `out`, streaming: memory stays at a few chunks
/// whatever the bid's size.
///
/// Two threads share the work: this one reads, encrypts and writes each chunk while it is hot in
/// its core's cache, then hands the buffer, uncopied, to a hasher thread computing the SHA-256
/// that the signature and the receipt need (the slowest step: about 250 MB/s a core without SHA
/// extensions, against AES-256-GCM's 1.9 GB/s), which gives it back to be filled again. (Writing
/// on a third thread was measured slower: the data then crosses cores once more.)
pub fn seal(
    params: &SealParams<'_>,
    plaintext: impl Read,
    out: impl Write,
) -> Result<Sealed, EnvelopeError> {
    let rng = SystemRandom::new();
    let mut data_key = [0u8; 32];
    rng.fill(&mut data_key).map_err(|_| EnvelopeError::Random)?;
    let info = hpke_info(params.tender, params.lot, params.bidder);
    let wrapped = crate::hpke::wrap_key(params.opening_key, &info, &data_key, &rng)?;
    let header = Header {
        v: VERSION,
        tender: params.tender.to_owned(),
        lot: params.lot.to_owned(),
        bidder: params.bidder.to_owned(),
        suite: SUITE.to_owned(),
        recipient: key_id(params.opening_key),
        signer: key_id(params.signing_key.public_key().as_ref()),
        wrapped_key: base64(&wrapped),
        chunk_size: CHUNK_SIZE as u32,
        created_at: params.created_at.clone(),
    };
    let header_bytes =
        serde_json::to_vec(&header).map_err(|e| EnvelopeError::Header(e.to_string()))?;
    let header_len =
        u32::try_from(header_bytes.len()).map_err(|_| EnvelopeError::HeaderLength(u32::MAX))?;
    if header_len > MAX_HEADER {
        return Err(EnvelopeError::HeaderLength(header_len));
    }
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &data_key)
            .map_err(|_| EnvelopeError::Key("data key".into()))?,
    );
    let aad = ring::digest::digest(&SHA256, &header_bytes);
    let mut prefix = Vec::with_capacity(MAGIC.len() + 4 + header_bytes.len());
    prefix.extend_from_slice(&MAGIC);
    prefix.extend_from_slice(&header_len.to_be_bytes());
    prefix.extend_from_slice(&header_bytes);

    std::thread::scope(|scope| {
        let (to_hasher, for_hasher) = sync_channel::<Stage>(POOL);
        let (give_back, spare) = sync_channel::<Vec<u8>>(POOL);
        let hasher = scope.spawn(move || hash_stage(for_hasher, give_back));
        let mut pipeline = Pipeline {
            out,
            hasher: to_hasher,
            spare,
            made: 0,
            written: 0,
        };
        let sealed = (|| {
            pipeline.send(prefix)?;
            let mut index = 0u64;
            let mut plaintext = plaintext;
            loop {
                let mut buf = pipeline.buffer()?;
                let n = read_full(&mut plaintext, &mut buf[..CHUNK_SIZE])?;
                // A full chunk is never the last: the last is shorter, empty when the plaintext
                // is an exact multiple of the chunk size.
                let last = n < CHUNK_SIZE;
                let tag = key
                    .seal_in_place_separate_tag(
                        chunk_nonce(index, last),
                        Aad::from(aad.as_ref()),
                        &mut buf[..n],
                    )
                    .map_err(|_| EnvelopeError::Key("chunk seal".into()))?;
                buf[n..n + TAG_LEN].copy_from_slice(tag.as_ref());
                buf.truncate(n + TAG_LEN);
                pipeline.send(buf)?;
                if last {
                    break;
                }
                index += 1;
            }
            let body_digest = pipeline.digest()?;
            let signature = params.signing_key.sign(&signed_message(&body_digest));
            let mut trailer = Vec::with_capacity(TRAILER);
            trailer.extend_from_slice(&SIG_MAGIC);
            trailer.extend_from_slice(signature.as_ref());
            pipeline.send(trailer)?;
            pipeline.out.flush()?;
            Ok(Sealed {
                sha256: hex::encode(pipeline.digest()?),
                size: pipeline.written,
            })
        })();
        drop(pipeline);
        hasher.join().map_err(|_| stage_gone())?;
        sealed
    })
}

/// Chunk buffers in flight between the stages of `seal`.
const POOL: usize = 32;

/// What goes from the sealer to the hasher, in order.
enum Stage {
    Piece(Vec<u8>),
    /// The digest of every piece before this, without ending the hash.
    Digest(SyncSender<[u8; 32]>),
}

fn stage_gone() -> EnvelopeError {
    EnvelopeError::Io(std::io::Error::other("a sealing stage stopped"))
}

/// The sealer's side: the output, and its end of the hasher's queues.
struct Pipeline<W> {
    out: W,
    hasher: SyncSender<Stage>,
    spare: Receiver<Vec<u8>>,
    /// Chunk buffers made so far; at most `POOL`.
    made: usize,
    written: u64,
}

impl<W: Write> Pipeline<W> {
    /// A chunk buffer of `SEALED_CHUNK` bytes to overwrite: one the hasher is done with, or a new
    /// one while fewer than `POOL` exist, or else the next one the hasher gives back.
    fn buffer(&mut self) -> Result<Vec<u8>, EnvelopeError> {
        let mut buf = match self.spare.try_recv() {
            Ok(buf) => buf,
            Err(_) if self.made < POOL => {
                self.made += 1;
                Vec::with_capacity(SEALED_CHUNK)
            }
            Err(_) => self.spare.recv().map_err(|_| stage_gone())?,
        };
        // Not cleared: a full chunk's buffer comes back full, and refilling it in place spares
        // zeroing 64 KiB for every chunk.
        buf.resize(SEALED_CHUNK, 0);
        Ok(buf)
    }

    /// Writes `piece`, then hands it to the hasher.
    fn send(&mut self, piece: Vec<u8>) -> Result<(), EnvelopeError> {
        self.out.write_all(&piece)?;
        self.written += piece.len() as u64;
        self.hasher
            .send(Stage::Piece(piece))
            .map_err(|_| stage_gone())
    }

    fn digest(&self) -> Result<[u8; 32], EnvelopeError> {
        let (reply, answer) = sync_channel(1);
        self.hasher
            .send(Stage::Digest(reply))
            .map_err(|_| stage_gone())?;
        answer.recv().map_err(|_| stage_gone())
    }
}

/// Hashes each piece and gives its buffer back; answers digests of what came so far.
fn hash_stage(pieces: Receiver<Stage>, give_back: SyncSender<Vec<u8>>) {
    let mut hasher = Sha256::new(&SHA256);
    for stage in pieces {
        match stage {
            Stage::Piece(piece) => {
                hasher.update(&piece);
                // When the pool is full (or the sealer is done) the buffer is simply dropped.
                let _ = give_back.try_send(piece);
            }
            Stage::Digest(reply) => {
                let mut digest = [0u8; 32];
                digest.copy_from_slice(hasher.clone().finish().as_ref());
                let _ = reply.send(digest);
            }
        }
    }
}

/// The bytes the bidder signs: the context, then SHA-256 of everything before the trailer.
pub(crate) fn signed_message(body_digest: &[u8]) -> Vec<u8> {
    let mut message = SIGNATURE_CONTEXT.to_vec();
    message.extend_from_slice(body_digest);
    message
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn unbase64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
pub(crate) fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

pub(crate) fn parse_header(bytes: &[u8]) -> Result<Header, EnvelopeError> {
    // The header must be one JSON object: serde refuses unknown and duplicate fields of `Header`.
    let header: Header =
        serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Header(e.to_string()))?;
    if header.v != VERSION {
        return Err(EnvelopeError::Version(header.v));
    }
    if header.suite != SUITE {
        return Err(EnvelopeError::Suite(header.suite));
    }
    if header.chunk_size as usize != CHUNK_SIZE {
        return Err(EnvelopeError::ChunkSize(header.chunk_size));
    }
    match unbase64(&header.wrapped_key) {
        Some(k) if k.len() == WRAPPED_KEY_LEN => {}
        _ => {
            return Err(EnvelopeError::Header(
                "wrapped_key is not 80 bytes of base64".into(),
            ));
        }
    }
    for (name, id) in [
        ("tender", &header.tender),
        ("lot", &header.lot),
        ("bidder", &header.bidder),
    ] {
        if !is_valid_id(id) {
            return Err(EnvelopeError::Header(format!("`{name}` is not an id")));
        }
    }
    Ok(header)
}

pub(crate) fn bind(header: &Header, expect: &Expect<'_>) -> Result<(), EnvelopeError> {
    for (field, found, expected) in [
        ("tender", &header.tender, expect.tender),
        ("lot", &header.lot, expect.lot),
        ("bidder", &header.bidder, expect.bidder),
    ] {
        if found != expected {
            return Err(EnvelopeError::Binding {
                field,
                found: found.clone(),
                expected: expected.to_owned(),
            });
        }
    }
    if header.recipient != expect.recipient {
        return Err(EnvelopeError::Recipient(header.recipient.clone()));
    }
    Ok(())
}
