//! The committed seeds still open under the fuzzing keys (else AFL would start from refusals), and
//! the target's body holds for them and for a few of their damaged copies.

use tenderhall_envelope_fuzz::{Outcome, run};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let bytes = std::fs::read(e.path()).ok()?;
                    Some((e.file_name().to_string_lossy().into_owned(), bytes))
                })
                .collect()
        })
        .unwrap_or_default();
    seeds.sort();
    seeds
}

#[test]
fn every_seed_opens_under_the_fuzzing_keys() {
    let seeds = seeds();
    assert_eq!(seeds.len(), 3, "empty, small and two-chunk seeds");
    for (name, bytes) in seeds {
        assert!(
            matches!(run(&bytes), Outcome::Opened { .. }),
            "{name} must open"
        );
    }
}

#[test]
fn damaged_seeds_are_refused_with_a_code_never_a_panic() {
    for (name, bytes) in seeds() {
        for at in [
            0,
            9,
            12,
            40,
            bytes.len() / 2,
            bytes.len() - 70,
            bytes.len() - 1,
        ] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x01;
            assert!(
                matches!(run(&damaged), Outcome::Refused(_)),
                "{name} with byte {at} flipped"
            );
        }
        assert!(matches!(
            run(&bytes[..bytes.len() - 1]),
            Outcome::Refused(_)
        ));
    }
}
