//! Adapters of the domain's [`DocumentStore`](tenderhall_domain::ports::DocumentStore) port.

pub mod local;

pub use local::LocalStore;

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
