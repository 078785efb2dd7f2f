//! Writes the fuzzer's seed envelopes, sealed to the fixed fuzzing keys, into the folder given
//! (`cargo run -p tenderhall-envelope-fuzz --bin envelope-seeds -- domain/envelope/fuzz/seeds`):
//! empty, small and two-chunk bodies, so that AFL starts from inputs that reach the end.

use std::path::PathBuf;

use tenderhall_envelope::{SealParams, seal};
use tenderhall_envelope_fuzz::{BIDDER, LOT, TENDER, opening_public, signing_key};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: envelope-seeds FOLDER")?,
    );
    std::fs::create_dir_all(&dir)?;
    let key = signing_key().map_err(|e| format!("signing key: {e}"))?;
    let opening = opening_public();
    for (name, size) in [("empty", 0usize), ("small", 100), ("two-chunks", 65_537)] {
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        seal(
            &SealParams {
                tender: TENDER,
                lot: LOT,
                bidder: BIDDER,
                opening_key: &opening,
                signing_key: &key,
                created_at: "2026-11-28T00:00:00Z".into(),
            },
            &body[..],
            &mut out,
        )?;
        std::fs::write(dir.join(format!("{name}.thb")), &out)?;
    }
    Ok(())
}
