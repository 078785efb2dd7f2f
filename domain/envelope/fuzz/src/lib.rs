//! The body of the envelope reader's fuzz target, shared by the AFL binary (`envelope-reader`)
//! and the tests that replay the seeds. The keys are fixed so that the seeds, sealed to them,
//! reach every stage of the reader: header, chunks, decryption and signature.

use tenderhall_envelope::{EnvelopeError, Expect, check, hpke, key_id, open};

pub const TENDER: &str = "tnd_fuzz";
pub const LOT: &str = "1";
pub const BIDDER: &str = "org_fuzz";
/// The lot's opening secret (X25519, raw), fixed for the fuzzer only.
pub const OPENING_SECRET: [u8; 32] = [0x42; 32];
/// The seed of the bidder's Ed25519 signing key, fixed for the fuzzer only.
pub const SIGNING_SEED: [u8; 32] = [0x17; 32];

/// The bidder's signing key.
pub fn signing_key() -> Result<ring::signature::Ed25519KeyPair, ring::error::KeyRejected> {
    ring::signature::Ed25519KeyPair::from_seed_unchecked(&SIGNING_SEED)
}

/// The lot's opening public key.
pub fn opening_public() -> [u8; 32] {
    hpke::public_of(&OPENING_SECRET).unwrap_or_default()
}

/// How an input came out of the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Checked and opened: `plaintext` bytes came out.
    Opened { plaintext: u64 },
    /// Refused, with the API code of the refusal.
    Refused(&'static str),
}

/// Runs `data` through the reader twice, as the upload does (`check`, without keys) and as the
/// opening does (`open`, with the lot's key), and panics (a crash, to AFL) when the two disagree in
/// a way the format forbids or a refusal has no code.
pub fn run(data: &[u8]) -> Outcome {
    let Ok(signer) = signing_key() else {
        return Outcome::Refused("bad_signature");
    };
    let signer_public = ring::signature::KeyPair::public_key(&signer)
        .as_ref()
        .to_vec();
    let signer_id = key_id(&signer_public);
    let recipient = key_id(&opening_public());
    let lookup = move |id: &str| (id == signer_id).then(|| signer_public.clone());
    let expect = Expect {
        tender: TENDER,
        lot: LOT,
        bidder: BIDDER,
        recipient: &recipient,
        signer: &lookup,
    };
    let checked = check(data, &expect);
    let mut plaintext = Vec::new();
    let opened = open(data, &expect, &OPENING_SECRET, &mut plaintext);
    match (&checked, &opened) {
        (Ok(c), Ok(o)) => {
            assert_eq!(c, o, "check and open describe the same envelope");
            assert_eq!(c.size, data.len() as u64, "the size is the input's");
            assert!(plaintext.len() < data.len(), "the plaintext is inside it");
            Outcome::Opened {
                plaintext: plaintext.len() as u64,
            }
        }
        (Err(c), Err(o)) => {
            // The opening decrypts as it reads, so a damaged chunk may stop it before the
            // signature at the end would have; any other refusal is the same as the upload's.
            assert!(
                only_the_key_sees(o) || c.code() == o.code(),
                "one refusal, two codes: {c} / {o}"
            );
            Outcome::Refused(code(c))
        }
        (Ok(_), Err(o)) => {
            // What only the key can see: the bidder's fault, found at the opening.
            assert!(
                only_the_key_sees(o),
                "check accepted what open refused for another reason: {o}"
            );
            Outcome::Refused(code(o))
        }
        (Err(c), Ok(_)) => panic!("open accepted what check refused: {c}"),
    }
}

fn only_the_key_sees(e: &EnvelopeError) -> bool {
    matches!(e, EnvelopeError::WrappedKey | EnvelopeError::Chunk(_))
}

fn code(e: &EnvelopeError) -> &'static str {
    let code = e.code();
    assert!(!code.is_empty(), "every refusal has a code: {e}");
    code
}
