//! Reading an envelope as it streams in: `check` without its keys (the server at upload), `open`
//! with the lot's opening key (the opening). A chunk is known not to be the last only once more
//! than a trailer follows it, so the reader holds one sealed chunk and a trailer at most.

use std::io::{Read, Write};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, UnboundKey};
use ring::digest::{Context as Sha256, SHA256};
use ring::signature::{ED25519, UnparsedPublicKey};

use crate::{
    EnvelopeError, Header, MAGIC, MAX_HEADER, SEALED_CHUNK, SIG_MAGIC, TAG_LEN, TRAILER, bind,
    chunk_nonce, hpke_info, parse_header, read_full, signed_message, unbase64,
};

/// What the reader expects of an envelope: the binding of the URL and the caller, the lot's
/// opening key, and the bidder's signing keys that are registered and unrevoked.
pub struct Expect<'a> {
    pub tender: &'a str,
    pub lot: &'a str,
    pub bidder: &'a str,
    /// Key id of the lot's opening public key.
    pub recipient: &'a str,
    /// The raw public key of a signing key id, when registered and unrevoked for the bidder.
    pub signer: &'a dyn Fn(&str) -> Option<Vec<u8>>,
}

/// An envelope that passed every check its keys allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub header: Header,
    pub sha256: String,
    pub size: u64,
}

/// Checks an envelope without decrypting it (the server at upload): structure, binding,
/// recipient, signer and signature. Reads `input` once, in chunks.
pub fn check(input: impl Read, expect: &Expect<'_>) -> Result<Checked, EnvelopeError> {
    Reader::start(input, expect)?.finish(None, &mut std::io::sink())
}

/// Opens an envelope with the lot's opening private key (raw 32 bytes), writing the plaintext to
/// `out` as it goes. Everything `check` checks is checked too; a chunk that does not decrypt stops
/// the opening with `Chunk(i)` (what was written before it must be discarded).
pub fn open(
    input: impl Read,
    expect: &Expect<'_>,
    opening_secret: &[u8],
    out: &mut impl Write,
) -> Result<Checked, EnvelopeError> {
    Reader::start(input, expect)?.finish(Some(opening_secret), out)
}

/// The reader once the header is read and checked.
struct Reader<R> {
    input: R,
    header: Header,
    header_digest: ring::digest::Digest,
    hasher: Sha256,
    size: u64,
    signer_key: Vec<u8>,
}

impl<R: Read> Reader<R> {
    fn start(mut input: R, expect: &Expect<'_>) -> Result<Self, EnvelopeError> {
        let mut magic = [0u8; 8];
        if read_full(&mut input, &mut magic)? < magic.len() || magic != MAGIC {
            return Err(EnvelopeError::Magic);
        }
        let mut len = [0u8; 4];
        if read_full(&mut input, &mut len)? < len.len() {
            return Err(EnvelopeError::Layout);
        }
        let header_len = u32::from_be_bytes(len);
        if header_len == 0 || header_len > MAX_HEADER {
            return Err(EnvelopeError::HeaderLength(header_len));
        }
        let mut header_bytes = vec![0u8; header_len as usize];
        if read_full(&mut input, &mut header_bytes)? < header_bytes.len() {
            return Err(EnvelopeError::Layout);
        }
        let header = parse_header(&header_bytes)?;
        bind(&header, expect)?;
        let signer_key = (expect.signer)(&header.signer)
            .ok_or_else(|| EnvelopeError::UnknownSigner(header.signer.clone()))?;
        let mut hasher = Sha256::new(&SHA256);
        hasher.update(&magic);
        hasher.update(&len);
        hasher.update(&header_bytes);
        Ok(Self {
            input,
            header_digest: ring::digest::digest(&SHA256, &header_bytes),
            header,
            hasher,
            size: (magic.len() + len.len() + header_bytes.len()) as u64,
            signer_key,
        })
    }

    /// Reads the chunks (decrypting them when given the opening key), then the trailer, and
    /// verifies the signature.
    fn finish(
        mut self,
        opening_secret: Option<&[u8]>,
        out: &mut impl Write,
    ) -> Result<Checked, EnvelopeError> {
        let key = match opening_secret {
            Some(secret) => Some(self.data_key(secret)?),
            None => None,
        };
        // A chunk is known not to be the last once more than a trailer follows it.
        let window = SEALED_CHUNK + TRAILER + 1;
        let mut buf = vec![0u8; window];
        let mut filled = 0usize;
        let mut index = 0u64;
        loop {
            filled += read_full(&mut self.input, &mut buf[filled..])?;
            if filled == window {
                self.chunk(key.as_ref(), index, false, &mut buf[..SEALED_CHUNK], out)?;
                buf.copy_within(SEALED_CHUNK..window, 0);
                filled = window - SEALED_CHUNK;
                index += 1;
                continue;
            }
            // The input has ended: what is left is the last chunk and the trailer.
            if filled < TAG_LEN + TRAILER || filled - TRAILER >= SEALED_CHUNK {
                return Err(EnvelopeError::Layout);
            }
            let last_len = filled - TRAILER;
            self.chunk(key.as_ref(), index, true, &mut buf[..last_len], out)?;
            let trailer = &buf[last_len..filled];
            if trailer[..4] != SIG_MAGIC {
                return Err(EnvelopeError::SigMagic);
            }
            let body_digest = self.hasher.clone().finish();
            UnparsedPublicKey::new(&ED25519, &self.signer_key)
                .verify(&signed_message(body_digest.as_ref()), &trailer[4..])
                .map_err(|_| EnvelopeError::Signature)?;
            self.hasher.update(trailer);
            self.size += TRAILER as u64;
            out.flush()?;
            return Ok(Checked {
                header: self.header,
                sha256: hex::encode(self.hasher.finish()),
                size: self.size,
            });
        }
    }

    fn chunk(
        &mut self,
        key: Option<&LessSafeKey>,
        index: u64,
        last: bool,
        sealed: &mut [u8],
        out: &mut impl Write,
    ) -> Result<(), EnvelopeError> {
        self.hasher.update(sealed);
        self.size += sealed.len() as u64;
        if let Some(key) = key {
            let plain = key
                .open_in_place(
                    chunk_nonce(index, last),
                    Aad::from(self.header_digest.as_ref()),
                    sealed,
                )
                .map_err(|_| EnvelopeError::Chunk(index))?;
            out.write_all(plain)?;
        }
        Ok(())
    }

    fn data_key(&self, opening_secret: &[u8]) -> Result<LessSafeKey, EnvelopeError> {
        let wrapped = unbase64(&self.header.wrapped_key).ok_or(EnvelopeError::WrappedKey)?;
        let info = hpke_info(&self.header.tender, &self.header.lot, &self.header.bidder);
        let data_key = crate::hpke::unwrap_key(opening_secret, &info, &wrapped)?;
        Ok(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &data_key).map_err(|_| EnvelopeError::WrappedKey)?,
        ))
    }
}
