//! Adapters of the domain's [`DocumentStore`](tenderhall_domain::ports::DocumentStore) port.

pub mod local;
pub mod s3;

pub use local::LocalStore;
pub use s3::{S3Settings, S3Store};

use bytes::Bytes;
use futures_util::StreamExt;
use tenderhall_domain::ports::ByteStream;

/// SHA-256 over a stream of pieces, as ring computes it.
pub(crate) struct Hasher(ring::digest::Context);

impl Hasher {
    pub(crate) fn new() -> Self {
        Self(ring::digest::Context::new(&ring::digest::SHA256))
    }

    pub(crate) fn update(&mut self, piece: &[u8]) {
        self.0.update(piece);
    }

    pub(crate) fn hex(self) -> String {
        hex::encode(self.0.finish())
    }
}

/// Passes `source` through, hashing it. The last piece is held back until the hash is checked: a
/// corrupted object ends in an error before its last byte, so no client ever receives it whole (its
/// `Content-Length` is never met).
pub(crate) fn verifying_stream(source: ByteStream, expected: String) -> ByteStream {
    struct State {
        source: ByteStream,
        hasher: Hasher,
        expected: String,
        held: Option<Bytes>,
    }
    let state = Some(State {
        source,
        hasher: Hasher::new(),
        expected,
        held: None,
    });
    Box::pin(futures_util::stream::unfold(state, |state| async move {
        let mut st = state?;
        loop {
            match st.source.next().await {
                None => {
                    let actual = std::mem::replace(&mut st.hasher, Hasher::new()).hex();
                    if actual != st.expected {
                        let e = std::io::Error::other(format!(
                            "stored object {} is corrupted: its bytes hash to {actual}",
                            st.expected
                        ));
                        return Some((Err(e), None));
                    }
                    return st.held.take().map(|last| (Ok(last), None));
                }
                Some(Ok(piece)) => {
                    if piece.is_empty() {
                        continue;
                    }
                    st.hasher.update(&piece);
                    if let Some(previous) = st.held.replace(piece) {
                        return Some((Ok(previous), Some(st)));
                    }
                }
                Some(Err(e)) => return Some((Err(e), None)),
            }
        }
    }))
}

/// A blocking `Read` (for a reader on a blocking thread, like the envelope's) over pieces an async
/// task sends: a stored object, or an upload as it arrives.
pub struct BlockingRead {
    pieces: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl BlockingRead {
    pub fn new(pieces: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>) -> Self {
        Self {
            pieces,
            current: Bytes::new(),
        }
    }
}

impl std::io::Read for BlockingRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.pieces.blocking_recv() {
                Some(Ok(piece)) => self.current = piece,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        bytes::Buf::advance(&mut self.current, n);
        Ok(n)
    }
}
