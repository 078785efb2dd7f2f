//! HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256: the `hpke` crate's types stay
//! in here. The single-shot seal is generic over the AEAD so that the RFC's Appendix A.1 vectors
//! (AES-128-GCM) run through the same code as the envelope's AES-256-GCM.
use ::hpke::aead::{Aead, AesGcm256};
use ::hpke::kdf::HkdfSha256;
use ::hpke::kem::X25519HkdfSha256;
use ::hpke::rand_core::{TryCryptoRng, TryRng};
use ::hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use ring::rand::SecureRandom;

use crate::{EnvelopeError, WRAPPED_KEY_LEN};

type Kem = X25519HkdfSha256;

/// Serves the randomness the KEM asks for from bytes drawn beforehand (from the operating
/// system, or a test vector's `ikmE`), so that no failure can hide inside an infallible RNG:
/// asking for more than was drawn is reported, never filled with something weaker.
pub struct Prepared<'a> {
    bytes: &'a [u8],
    overdrawn: bool,
}

impl<'a> Prepared<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            overdrawn: false,
        }
    }
}

impl TryRng for Prepared<'_> {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        if dst.len() > self.bytes.len() {
            self.overdrawn = true;
            dst.fill(0);
            return Ok(());
        }
        let (now, rest) = self.bytes.split_at(dst.len());
        dst.copy_from_slice(now);
        self.bytes = rest;
        Ok(())
    }
}

impl TryCryptoRng for Prepared<'_> {}

/// Single-shot base-mode seal: (`enc`, ciphertext).
pub fn seal<A: Aead>(
    recipient_public: &[u8],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    ephemeral_ikm: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), EnvelopeError> {
    let public = <Kem as ::hpke::Kem>::PublicKey::from_bytes(recipient_public)
        .map_err(|_| EnvelopeError::Key("the opening key is not an X25519 public key".into()))?;
    let mut rng = Prepared::new(ephemeral_ikm);
    let (enc, ciphertext) = ::hpke::single_shot_seal_with_rng::<A, HkdfSha256, Kem>(
        &OpModeS::Base,
        &public,
        info,
        plaintext,
        aad,
        &mut rng,
    )
    .map_err(|e| EnvelopeError::Key(format!("HPKE seal: {e}")))?;
    if rng.overdrawn {
        return Err(EnvelopeError::Random);
    }
    Ok((enc.to_bytes().to_vec(), ciphertext))
}

/// Single-shot base-mode open.
pub fn open<A: Aead>(
    recipient_secret: &[u8],
    enc: &[u8],
    info: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Option<Vec<u8>> {
    let secret = <Kem as ::hpke::Kem>::PrivateKey::from_bytes(recipient_secret).ok()?;
    let enc = <Kem as ::hpke::Kem>::EncappedKey::from_bytes(enc).ok()?;
    ::hpke::single_shot_open::<A, HkdfSha256, Kem>(
        &OpModeR::Base,
        &secret,
        &enc,
        info,
        ciphertext,
        aad,
    )
    .ok()
}

/// The envelope's `wrapped_key`: `enc` then the AES-256-GCM-sealed data key, 80 bytes.
pub fn wrap_key(
    recipient_public: &[u8],
    info: &[u8],
    data_key: &[u8; 32],
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>, EnvelopeError> {
    let mut ikm = [0u8; 32];
    rng.fill(&mut ikm).map_err(|_| EnvelopeError::Random)?;
    let (mut wrapped, ciphertext) = seal::<AesGcm256>(recipient_public, info, &[], data_key, &ikm)?;
    wrapped.extend_from_slice(&ciphertext);
    debug_assert_eq!(wrapped.len(), WRAPPED_KEY_LEN);
    Ok(wrapped)
}

/// The data key from `wrapped_key`, or `WrappedKey` when it does not open.
pub fn unwrap_key(
    recipient_secret: &[u8],
    info: &[u8],
    wrapped: &[u8],
) -> Result<[u8; 32], EnvelopeError> {
    if wrapped.len() != WRAPPED_KEY_LEN {
        return Err(EnvelopeError::WrappedKey);
    }
    let (enc, ciphertext) = wrapped.split_at(32);
    open::<AesGcm256>(recipient_secret, enc, info, &[], ciphertext)
        .and_then(|key| <[u8; 32]>::try_from(key.as_slice()).ok())
        .ok_or(EnvelopeError::WrappedKey)
}

/// A short secret sealed to an opening key outside an envelope (an auction's reserve price):
/// base-mode HPKE with AES-256-GCM, `enc ‖ ciphertext`.
pub fn seal_message(
    recipient_public: &[u8],
    info: &[u8],
    plaintext: &[u8],
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>, EnvelopeError> {
    let mut ikm = [0u8; 32];
    rng.fill(&mut ikm).map_err(|_| EnvelopeError::Random)?;
    let (mut sealed, ciphertext) = seal::<AesGcm256>(recipient_public, info, &[], plaintext, &ikm)?;
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Opens what [`seal_message`] sealed; `None` when it does not open under this key and `info`.
pub fn open_message(recipient_secret: &[u8], info: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 32 {
        return None;
    }
    let (enc, ciphertext) = sealed.split_at(32);
    open::<AesGcm256>(recipient_secret, enc, info, &[], ciphertext)
}

/// A fresh opening key pair: (secret, public), raw 32 bytes each.
pub fn opening_keypair(rng: &dyn SecureRandom) -> Result<([u8; 32], [u8; 32]), EnvelopeError> {
    let mut ikm = [0u8; 32];
    rng.fill(&mut ikm).map_err(|_| EnvelopeError::Random)?;
    let (secret, public) = Kem::derive_keypair(&ikm);
    let mut s = [0u8; 32];
    let mut p = [0u8; 32];
    s.copy_from_slice(&secret.to_bytes());
    p.copy_from_slice(&public.to_bytes());
    Ok((s, p))
}

/// The public key of an opening secret key.
pub fn public_of(secret: &[u8]) -> Option<[u8; 32]> {
    let secret = <Kem as ::hpke::Kem>::PrivateKey::from_bytes(secret).ok()?;
    let mut p = [0u8; 32];
    p.copy_from_slice(&Kem::sk_to_pk(&secret).to_bytes());
    Some(p)
}
