//! Keys: the master key that wraps every private key the platform keeps, the platform's Ed25519
//! signing key, and bidders' registered signing keys (docs/spec/envelope.md "Keys").
//!
//! Pure: ring only, no database.

pub mod service;
pub mod store;

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

pub use tenderhall_envelope::key_id;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the master key must be base64 of exactly 32 bytes")]
    BadMasterKey,
    #[error("the wrapped key does not open under this master key (another master key, or damaged)")]
    UnwrapFailed,
    #[error("the system random generator failed")]
    Random,
    #[error("the key material is not a valid {0}")]
    Malformed(&'static str),
}

/// The 32-byte master key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| KeyError::Random)?;
        Ok(Self(bytes))
    }

    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|_| KeyError::BadMasterKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KeyError::BadMasterKey)?;
        Ok(Self(bytes))
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// An HMAC-SHA256 key for one purpose, derived with HKDF so it reveals nothing of the master
    /// key and is the same on every node (the portal's form tokens use one).
    pub fn derive_hmac_key(&self, purpose: &str) -> ring::hmac::Key {
        let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"tenderhall/derive/v1");
        let info = [purpose.as_bytes()];
        let prk = salt.extract(&self.0);
        match prk.expand(&info, ring::hmac::HMAC_SHA256) {
            Ok(okm) => ring::hmac::Key::from(okm),
            // Unreachable: one block of output is always within HKDF's limit.
            Err(_) => ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0),
        }
    }

    fn aead_key(&self) -> Result<LessSafeKey, KeyError> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| KeyError::BadMasterKey)
    }

    /// Wraps `secret` with AES-256-GCM under the master key; `context` is bound as AAD, so a wrapped
    /// key cannot be moved to another purpose. Output: base64(nonce ‖ ciphertext ‖ tag).
    pub fn wrap(&self, secret: &[u8], context: &str) -> Result<String, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| KeyError::Random)?;
        let mut sealed = secret.to_vec();
        self.aead_key()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| KeyError::UnwrapFailed)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(BASE64.encode(out))
    }

    pub fn unwrap(&self, wrapped: &str, context: &str) -> Result<Vec<u8>, KeyError> {
        let bytes = BASE64.decode(wrapped).map_err(|_| KeyError::UnwrapFailed)?;
        if bytes.len() < NONCE_LEN {
            return Err(KeyError::UnwrapFailed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::UnwrapFailed)?;
        let mut buffer = sealed.to_vec();
        let plain = self
            .aead_key()?
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| KeyError::UnwrapFailed)?;
        Ok(plain.to_vec())
    }
}

/// The platform's Ed25519 key: signs receipts, opening records and audit heads.
pub struct PlatformSigner {
    key_pair: Ed25519KeyPair,
    key_id: String,
}

impl fmt::Debug for PlatformSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl PlatformSigner {
    /// A new PKCS#8 document for a fresh key.
    pub fn generate_pkcs8() -> Result<Vec<u8>, KeyError> {
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| KeyError::Random)
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let key_pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|_| KeyError::Malformed("Ed25519 PKCS#8 key"))?;
        let key_id = key_id(key_pair.public_key().as_ref());
        Ok(Self { key_pair, key_id })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key(&self) -> &[u8] {
        self.key_pair.public_key().as_ref()
    }

    pub fn public_key_base64(&self) -> String {
        BASE64.encode(self.public_key())
    }

    /// Signs `message`; the signature in base64.
    pub fn sign(&self, message: &[u8]) -> String {
        BASE64.encode(self.key_pair.sign(message).as_ref())
    }
}

/// Checks a base64 Ed25519 `signature` of `message` under a raw public key.
pub fn verify_ed25519(public_key: &[u8], message: &[u8], signature_base64: &str) -> bool {
    match BASE64.decode(signature_base64) {
        Ok(signature) => UnparsedPublicKey::new(&ED25519, public_key)
            .verify(message, &signature)
            .is_ok(),
        Err(_) => false,
    }
}

/// Parses a raw Ed25519 public key given in base64 (32 bytes).
pub fn parse_ed25519_public_key(text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|_| KeyError::Malformed("base64 Ed25519 public key"))?;
    bytes
        .try_into()
        .map_err(|_| KeyError::Malformed("32-byte Ed25519 public key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_opens_only_under_its_master_key_and_context() -> Result<(), KeyError> {
        let master = MasterKey::generate()?;
        let wrapped = master.wrap(b"secret", "tenderhall/platform-key/v1|receipt")?;
        assert_eq!(
            master.unwrap(&wrapped, "tenderhall/platform-key/v1|receipt")?,
            b"secret"
        );
        assert_eq!(
            master.unwrap(&wrapped, "another purpose"),
            Err(KeyError::UnwrapFailed)
        );
        let other = MasterKey::generate()?;
        assert_eq!(
            other.unwrap(&wrapped, "tenderhall/platform-key/v1|receipt"),
            Err(KeyError::UnwrapFailed)
        );
        Ok(())
    }

    #[test]
    fn the_master_key_must_be_32_bytes_of_base64() {
        assert_eq!(
            MasterKey::from_base64("c2hvcnQ=").map(|_| ()),
            Err(KeyError::BadMasterKey)
        );
        assert_eq!(
            MasterKey::from_base64("not base64!").map(|_| ()),
            Err(KeyError::BadMasterKey)
        );
        assert!(MasterKey::from_base64(&BASE64.encode([7u8; 32])).is_ok());
        assert_eq!(format!("{:?}", MasterKey([1; 32])), "MasterKey(***)");
    }

    #[test]
    fn platform_signatures_verify_under_the_published_key() -> Result<(), KeyError> {
        let signer = PlatformSigner::from_pkcs8(&PlatformSigner::generate_pkcs8()?)?;
        let signature = signer.sign(b"receipt");
        assert!(verify_ed25519(signer.public_key(), b"receipt", &signature));
        assert!(!verify_ed25519(
            signer.public_key(),
            b"receipt!",
            &signature
        ));
        assert_eq!(signer.key_id(), key_id(signer.public_key()));
        assert_eq!(signer.key_id().len(), 64);
        Ok(())
    }
}
