//! The sealed bid envelope of docs/spec/envelope.md: round trips at the chunk boundaries, each refusal of
//! "What must hold" as its own test, and RFC 9180 Appendix A.1 through the envelope's HPKE code.

// Tests: a failed unwrap is a failed test (the workspace lints deny them outside tests, Cargo.toml).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use tenderhall_envelope::hpke;
use tenderhall_envelope::key_id;
use tenderhall_envelope::{
    self as envelope, CHUNK_SIZE, EnvelopeError, Expect, SEALED_CHUNK, SealParams, TRAILER,
};

struct Keys {
    opening_secret: [u8; 32],
    opening_public: [u8; 32],
    signing: Ed25519KeyPair,
}

fn keys() -> Keys {
    let rng = SystemRandom::new();
    let (opening_secret, opening_public) = hpke::opening_keypair(&rng).expect("opening key");
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("signing key");
    Keys {
        opening_secret,
        opening_public,
        signing: Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("signing key"),
    }
}

fn seal(keys: &Keys, plaintext: &[u8]) -> Vec<u8> {
    seal_as(keys, "tnd_1", "1", "org_1", &keys.opening_public, plaintext)
}

fn seal_as(
    keys: &Keys,
    tender: &str,
    lot: &str,
    bidder: &str,
    to: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    let sealed = envelope::seal(
        &SealParams {
            tender,
            lot,
            bidder,
            opening_key: to,
            signing_key: &keys.signing,
            created_at: "2026-11-28T08:00:00Z".into(),
        },
        plaintext,
        &mut out,
    )
    .expect("seal");
    assert_eq!(sealed.size, out.len() as u64);
    out
}

fn expect<'a>(keys: &'a Keys, signer: &'a dyn Fn(&str) -> Option<Vec<u8>>) -> Expect<'a> {
    let _ = keys;
    Expect {
        tender: "tnd_1",
        lot: "1",
        bidder: "org_1",
        recipient: Box::leak(key_id(&keys.opening_public).into_boxed_str()),
        signer,
    }
}

fn signer_of(keys: &Keys) -> impl Fn(&str) -> Option<Vec<u8>> + '_ {
    let public = keys.signing.public_key().as_ref().to_vec();
    let id = key_id(&public);
    move |asked: &str| (asked == id).then(|| public.clone())
}

fn open(keys: &Keys, sealed: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let signer = signer_of(keys);
    let mut plain = Vec::new();
    envelope::open(
        sealed,
        &expect(keys, &signer),
        &keys.opening_secret,
        &mut plain,
    )?;
    Ok(plain)
}

fn check(keys: &Keys, sealed: &[u8]) -> Result<envelope::Checked, EnvelopeError> {
    let signer = signer_of(keys);
    envelope::check(sealed, &expect(keys, &signer))
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn round_trips_at_every_chunk_boundary() {
    let keys = keys();
    for len in [
        0,
        1,
        CHUNK_SIZE - 1,
        CHUNK_SIZE,
        CHUNK_SIZE + 1,
        3 * CHUNK_SIZE,
    ] {
        let plaintext = pattern(len);
        let sealed = seal(&keys, &plaintext);
        // Layout: full sealed chunks, then a shorter last one (empty plaintext on a boundary).
        let header_len = u32::from_be_bytes(sealed[8..12].try_into().unwrap()) as usize;
        let body = sealed.len() - 12 - header_len - TRAILER;
        assert_eq!(
            body,
            (len / CHUNK_SIZE) * SEALED_CHUNK + len % CHUNK_SIZE + 16,
            "{len}"
        );
        let checked = check(&keys, &sealed).expect("checks");
        assert_eq!(checked.size, sealed.len() as u64);
        assert_eq!(
            checked.sha256,
            hex::encode(ring::digest::digest(&ring::digest::SHA256, &sealed))
        );
        assert_eq!(open(&keys, &sealed).expect("opens"), plaintext, "{len}");
    }
}

#[test]
fn round_trips_100_mib_streaming() {
    let keys = keys();
    let len = 100 * 1024 * 1024;
    // Sealed from a reader and opened into a hasher: neither side holds the plaintext twice.
    let source = std::io::Read::take(std::io::repeat(0x5a), len as u64);
    let mut sealed = Vec::with_capacity(len + len / 4096 + 1024);
    envelope::seal(
        &SealParams {
            tender: "tnd_1",
            lot: "1",
            bidder: "org_1",
            opening_key: &keys.opening_public,
            signing_key: &keys.signing,
            created_at: "2026-11-28T08:00:00Z".into(),
        },
        source,
        &mut sealed,
    )
    .expect("seal");
    struct Count(u64, bool);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            self.1 &= buf.iter().all(|b| *b == 0x5a);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let signer = signer_of(&keys);
    let mut count = Count(0, true);
    envelope::open(
        &sealed[..],
        &expect(&keys, &signer),
        &keys.opening_secret,
        &mut count,
    )
    .expect("opens");
    assert_eq!(count.0, len as u64);
    assert!(count.1);
}

fn header_range(sealed: &[u8]) -> std::ops::Range<usize> {
    let header_len = u32::from_be_bytes(sealed[8..12].try_into().unwrap()) as usize;
    12..12 + header_len
}

#[test]
fn a_changed_magic_is_bad_envelope() {
    let keys = keys();
    let mut sealed = seal(&keys, b"price");
    sealed[5] ^= 1;
    let e = check(&keys, &sealed).unwrap_err();
    assert!(matches!(e, EnvelopeError::Magic), "{e}");
    assert_eq!(e.code(), "bad_envelope");
}

#[test]
fn a_header_length_out_of_range_is_bad_envelope() {
    let keys = keys();
    let mut sealed = seal(&keys, b"price");
    sealed[8..12].copy_from_slice(&16_385u32.to_be_bytes());
    assert!(matches!(
        check(&keys, &sealed),
        Err(EnvelopeError::HeaderLength(16_385))
    ));
    sealed[8..12].copy_from_slice(&0u32.to_be_bytes());
    assert!(matches!(
        check(&keys, &sealed),
        Err(EnvelopeError::HeaderLength(0))
    ));
}

#[test]
fn a_changed_header_byte_is_refused() {
    let keys = keys();
    let sealed = seal(&keys, b"price");
    let range = header_range(&sealed);
    for i in range {
        let mut changed = sealed.clone();
        changed[i] ^= 0x01;
        let e = check(&keys, &changed).expect_err("a changed header byte must be refused");
        assert!(
            ["bad_envelope", "wrong_recipient", "bad_signature"].contains(&e.code()),
            "byte {i}: {e}"
        );
    }
}

#[test]
fn unknown_and_duplicate_header_keys_are_bad_envelope() {
    let keys = keys();
    let sealed = seal(&keys, b"price");
    let range = header_range(&sealed);
    let header = std::str::from_utf8(&sealed[range.clone()]).unwrap();
    for changed in [
        header.replacen("{", "{\"extra\":1,", 1),
        header.replacen("{", "{\"lot\":\"1\",", 1),
    ] {
        let mut bytes = sealed[..8].to_vec();
        bytes.extend_from_slice(&(changed.len() as u32).to_be_bytes());
        bytes.extend_from_slice(changed.as_bytes());
        bytes.extend_from_slice(&sealed[range.end..]);
        let e = check(&keys, &bytes).unwrap_err();
        assert!(matches!(e, EnvelopeError::Header(_)), "{e}");
    }
}

#[test]
fn a_changed_chunk_byte_fails_the_signature_at_upload_and_the_chunk_at_opening() {
    let keys = keys();
    let sealed = seal(&keys, &pattern(CHUNK_SIZE + 10));
    let body_start = header_range(&sealed).end;
    for i in [
        body_start,
        body_start + SEALED_CHUNK - 1,
        sealed.len() - TRAILER - 1,
    ] {
        let mut changed = sealed.clone();
        changed[i] ^= 0x80;
        assert!(
            matches!(check(&keys, &changed), Err(EnvelopeError::Signature)),
            "{i}"
        );
        assert!(open(&keys, &changed).is_err(), "{i}");
    }
}

#[test]
fn a_changed_signature_is_bad_signature() {
    let keys = keys();
    let mut sealed = seal(&keys, b"price");
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    let e = check(&keys, &sealed).unwrap_err();
    assert!(matches!(e, EnvelopeError::Signature));
    assert_eq!(e.code(), "bad_signature");
}

#[test]
fn a_changed_signature_magic_is_bad_envelope() {
    let keys = keys();
    let mut sealed = seal(&keys, b"price");
    let at = sealed.len() - TRAILER;
    sealed[at] = b'X';
    assert!(matches!(
        check(&keys, &sealed),
        Err(EnvelopeError::SigMagic)
    ));
}

#[test]
fn a_truncated_or_extended_envelope_is_refused() {
    let keys = keys();
    let sealed = seal(&keys, &pattern(2 * CHUNK_SIZE + 5));
    for cut in [1, TRAILER, TRAILER + 21, sealed.len() - 20] {
        let e = check(&keys, &sealed[..sealed.len() - cut]).unwrap_err();
        assert_eq!(e.code(), "bad_envelope", "cut {cut}: {e}");
    }
    let mut extended = sealed.clone();
    extended.extend_from_slice(&[0u8; 3]);
    assert!(check(&keys, &extended).is_err());
}

#[test]
fn a_dropped_reordered_or_appended_chunk_is_detected_at_the_opening_at_the_latest() {
    let keys = keys();
    let sealed = seal(&keys, &pattern(3 * CHUNK_SIZE + 7));
    let body = header_range(&sealed).end;
    let chunk = |i: usize| &sealed[body + i * SEALED_CHUNK..body + (i + 1) * SEALED_CHUNK];
    let tail = &sealed[body + 3 * SEALED_CHUNK..];
    let rebuild = |chunks: &[&[u8]]| {
        let mut v = sealed[..body].to_vec();
        for c in chunks {
            v.extend_from_slice(c);
        }
        v.extend_from_slice(tail);
        v
    };
    for changed in [
        rebuild(&[chunk(0), chunk(2)]),
        rebuild(&[chunk(1), chunk(0), chunk(2)]),
        rebuild(&[chunk(0), chunk(1), chunk(2), chunk(2)]),
    ] {
        // The signature covers the body, so the upload check refuses it already; the opening
        // refuses it even with a signature made over the changed bytes (the nonces bind order).
        assert!(check(&keys, &changed).is_err());
        assert!(open(&keys, &changed).is_err());
    }
}

#[test]
fn an_envelope_for_another_tender_lot_or_bidder_is_bad_envelope() {
    let keys = keys();
    for (tender, lot, bidder, field) in [
        ("tnd_2", "1", "org_1", "tender"),
        ("tnd_1", "2", "org_1", "lot"),
        ("tnd_1", "1", "org_2", "bidder"),
    ] {
        let sealed = seal_as(&keys, tender, lot, bidder, &keys.opening_public, b"price");
        match check(&keys, &sealed) {
            Err(EnvelopeError::Binding { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn an_envelope_sealed_to_another_key_is_wrong_recipient() {
    let keys = keys();
    let other = keys_other();
    let sealed = seal_as(&keys, "tnd_1", "1", "org_1", &other, b"price");
    let e = check(&keys, &sealed).unwrap_err();
    assert_eq!(e.code(), "wrong_recipient");
}

fn keys_other() -> [u8; 32] {
    hpke::opening_keypair(&SystemRandom::new()).unwrap().1
}

#[test]
fn an_unregistered_or_revoked_signing_key_is_bad_signature() {
    let keys = keys();
    let sealed = seal(&keys, b"price");
    let nobody = |_: &str| None;
    let e = envelope::check(&sealed[..], &expect(&keys, &nobody)).unwrap_err();
    assert!(matches!(e, EnvelopeError::UnknownSigner(_)));
    assert_eq!(e.code(), "bad_signature");
}

#[test]
fn a_data_key_that_does_not_unwrap_is_the_bidders_fault_at_the_opening() {
    let keys = keys();
    let sealed = seal(&keys, b"price");
    // The upload check cannot see it; the opening can.
    assert!(check(&keys, &sealed).is_ok());
    let signer = signer_of(&keys);
    let wrong = hpke::opening_keypair(&SystemRandom::new()).unwrap().0;
    let e = envelope::open(
        &sealed[..],
        &expect(&keys, &signer),
        &wrong,
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(matches!(e, EnvelopeError::WrappedKey));
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// RFC 9180 Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode. The
/// KEM and the key schedule are the envelope's (`hpke::seal`/`hpke::open`); only the AEAD differs
/// (the envelope's AES-256-GCM is covered by the interoperability test).
#[test]
fn rfc_9180_a_1_1_vectors_through_the_envelope_code_path() {
    use ::hpke::aead::AesGcm128;
    let info = unhex("4f6465206f6e2061204772656369616e2055726e");
    let ikm_e = unhex("7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234");
    let pk_rm = unhex("3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d");
    let sk_rm = unhex("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8");
    let enc = unhex("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431");
    let pt = unhex("4265617574792069732074727574682c20747275746820626561757479");
    let aad = unhex("436f756e742d30");
    let ct = unhex(
        "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
    );
    assert_eq!(hpke::public_of(&sk_rm).unwrap().to_vec(), pk_rm);
    let (got_enc, got_ct) = hpke::seal::<AesGcm128>(&pk_rm, &info, &aad, &pt, &ikm_e).unwrap();
    assert_eq!(hex::encode(&got_enc), hex::encode(&enc));
    assert_eq!(hex::encode(&got_ct), hex::encode(&ct));
    assert_eq!(
        hpke::open::<AesGcm128>(&sk_rm, &enc, &info, &aad, &ct).unwrap(),
        pt
    );
}

mod mutations {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// docs/spec/envelope.md: a changed byte anywhere is refused, with a named error, never a panic;
        /// and a cut or a byte appended is refused too.
        #[test]
        fn every_single_byte_mutation_is_refused(position in 0usize..10_000, flip in 1u8..=255, cut in 0usize..200) {
            let keys = keys();
            let sealed = seal(&keys, &pattern(CHUNK_SIZE + 100));
            let mut changed = sealed.clone();
            let at = position * sealed.len() / 10_000;
            changed[at] ^= flip;
            let refused = open(&keys, &changed).expect_err("a mutated envelope must be refused");
            prop_assert!(!refused.code().is_empty());
            let truncated = &sealed[..sealed.len() - 1 - cut.min(sealed.len() - 2)];
            prop_assert!(open(&keys, truncated).is_err());
        }
    }
}
