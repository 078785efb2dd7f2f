//! docs/spec/envelope.md "What must hold": an envelope sealed by an independent implementation opens, and
//! the reverse. The other implementation is `tests/interop/envelope.py`, on Python's `cryptography`
//! (HPKE, AES-256-GCM, Ed25519): a different library stack for every primitive. It needs
//! `cryptography` 45 or newer; `.ci/run` installs it, and under CI a missing one fails the test.

// Tests: a failed unwrap is a failed test (the workspace lints deny them outside tests, Cargo.toml).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use tenderhall_envelope::hpke;
use tenderhall_envelope::key_id;
use tenderhall_envelope::{self as envelope, Expect, SealParams};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/envelope.py");

/// The Python with `cryptography`'s HPKE, or why there is none (a failure under CI).
fn python() -> Option<String> {
    // As tenderhall_workers::testing::test_python (this pure crate does not depend on workers):
    // the variable, else the environment .ci/run builds, else python3.
    let ci_venv = std::env::var_os("HOME")
        .map(|h| std::path::Path::new(&h).join(".cache/tenderhall-ci/venv/bin/python"))
        .filter(|p| p.exists());
    let python = std::env::var("TENDERHALL_TEST_PYTHON").unwrap_or_else(|_| {
        ci_venv.map_or_else(
            || "python3".to_owned(),
            |p| p.to_string_lossy().into_owned(),
        )
    });
    let probe = Command::new(&python)
        .args(["-c", "from cryptography.hazmat.primitives import hpke"])
        .output();
    match probe {
        Ok(out) if out.status.success() => Some(python),
        other => {
            let why = format!("{python} lacks cryptography >= 45 with HPKE: {other:?}");
            assert!(std::env::var("CI").is_err(), "{why}");
            eprintln!("skipped (not under CI): {why}");
            None
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn run(python: &str, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg(SCRIPT)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "envelope.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

fn plaintext() -> Vec<u8> {
    // Three chunks and a bit: every nonce path, full and last.
    (0..3 * 65_536 + 1234).map(|i| (i % 253) as u8).collect()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn an_envelope_sealed_by_tenderhall_opens_in_the_independent_implementation() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let rng = SystemRandom::new();
    let (secret, public) = hpke::opening_keypair(&rng).unwrap();
    let signing =
        Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref()).unwrap();
    let plain = plaintext();
    let sealed_path = dir.path().join("bid.thb");
    let file = std::fs::File::create(&sealed_path).unwrap();
    envelope::seal(
        &SealParams {
            tender: "tnd_interop",
            lot: "2",
            bidder: "org_py",
            opening_key: &public,
            signing_key: &signing,
            created_at: "2026-11-28T08:00:00Z".into(),
        },
        &plain[..],
        std::io::BufWriter::new(file),
    )
    .unwrap();
    let out = dir.path().join("plain.bin");
    run(
        &python,
        &[
            "open",
            &b64(&secret),
            &b64(signing.public_key().as_ref()),
            "tnd_interop",
            "2",
            "org_py",
            path_str(&sealed_path),
            path_str(&out),
        ],
    );
    assert_eq!(std::fs::read(out).unwrap(), plain);
}

#[test]
fn an_envelope_sealed_by_the_independent_implementation_opens_in_tenderhall() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = hpke::opening_keypair(&SystemRandom::new()).unwrap();
    let plain = plaintext();
    let plain_path = dir.path().join("plain.bin");
    std::fs::write(&plain_path, &plain).unwrap();
    let sealed_path = dir.path().join("bid.thb");
    let signer = run(
        &python,
        &[
            "seal",
            &b64(&public),
            "tnd_interop",
            "2",
            "org_py",
            path_str(&plain_path),
            path_str(&sealed_path),
        ],
    );
    let signer = base64::engine::general_purpose::STANDARD
        .decode(signer)
        .unwrap();
    let signer_id = key_id(&signer);
    let lookup = |id: &str| (id == signer_id).then(|| signer.clone());
    let recipient = key_id(&public);
    let expect = Expect {
        tender: "tnd_interop",
        lot: "2",
        bidder: "org_py",
        recipient: &recipient,
        signer: &lookup,
    };
    let sealed = std::fs::read(&sealed_path).unwrap();
    let mut opened = Vec::new();
    let checked = envelope::open(&sealed[..], &expect, &secret, &mut opened).unwrap();
    assert_eq!(opened, plain);
    assert_eq!(
        checked.sha256,
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &sealed))
    );
}
