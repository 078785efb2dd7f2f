"""An independent implementation of docs/spec/envelope.md's envelope, version 1, written from that page with
Python's `cryptography` (HPKE, AES-GCM, Ed25519): it seals envelopes Tenderhall must open, and opens
Tenderhall's. Used by domain/envelope/tests/interop.rs.

    envelope.py seal OPENING_PUBLIC_B64 TENDER LOT BIDDER PLAINTEXT OUT   (prints the signer's public key)
    envelope.py open OPENING_SECRET_B64 SIGNER_PUBLIC_B64 TENDER LOT BIDDER ENVELOPE OUT
"""

import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAGIC = b"THBID\x00\x01\x00"
SUITE = "HPKE-X25519-SHA256-AES256GCM/STREAM-AES256GCM-64K"
CHUNK = 65536
SEALED = CHUNK + 16
HPKE_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


def key_id(raw):
    return hashlib.sha256(raw).hexdigest()


def nonce(index, last):
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def info(tender, lot, bidder):
    return f"tenderhall/bid/v1|{tender}|{lot}|{bidder}".encode()


def seal(opening_public_b64, tender, lot, bidder, plaintext_path, out_path):
    opening_raw = base64.b64decode(opening_public_b64)
    opening = X25519PublicKey.from_public_bytes(opening_raw)
    signing = Ed25519PrivateKey.generate()
    signer_raw = signing.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    data_key = os.urandom(32)
    wrapped = HPKE_SUITE.encrypt(data_key, opening, info=info(tender, lot, bidder))
    assert len(wrapped) == 80
    header = json.dumps(
        {
            "created_at": "2026-11-28T09:00:00+08:00",
            "v": 1,
            "tender": tender,
            "lot": lot,
            "bidder": bidder,
            "suite": SUITE,
            "recipient": key_id(opening_raw),
            "signer": key_id(signer_raw),
            "wrapped_key": base64.b64encode(wrapped).decode(),
            "chunk_size": CHUNK,
        },
        separators=(",", ":"),
    ).encode()
    aad = hashlib.sha256(header).digest()
    aes = AESGCM(data_key)
    out = bytearray(MAGIC + len(header).to_bytes(4, "big") + header)
    with open(plaintext_path, "rb") as f:
        plaintext = f.read()
    index = 0
    while True:
        piece = plaintext[index * CHUNK:(index + 1) * CHUNK]
        last = len(piece) < CHUNK
        out += aes.encrypt(nonce(index, last), piece, aad)
        if last:
            break
        index += 1
    digest = hashlib.sha256(out).digest()
    out += b"SIG1" + signing.sign(b"tenderhall/bid-signature/v1|" + digest)
    with open(out_path, "wb") as f:
        f.write(out)
    print(base64.b64encode(signer_raw).decode())


def open_envelope(opening_secret_b64, signer_b64, tender, lot, bidder, envelope_path, out_path):
    with open(envelope_path, "rb") as f:
        data = f.read()
    assert data[:8] == MAGIC, "magic"
    header_len = int.from_bytes(data[8:12], "big")
    header_bytes = data[12:12 + header_len]
    header = json.loads(header_bytes)
    assert (header["v"], header["suite"], header["chunk_size"]) == (1, SUITE, CHUNK)
    assert (header["tender"], header["lot"], header["bidder"]) == (tender, lot, bidder)
    signer_raw = base64.b64decode(signer_b64)
    assert header["signer"] == key_id(signer_raw)
    assert data[-68:-64] == b"SIG1"
    Ed25519PublicKey.from_public_bytes(signer_raw).verify(
        data[-64:], b"tenderhall/bid-signature/v1|" + hashlib.sha256(data[:-68]).digest()
    )
    secret = X25519PrivateKey.from_private_bytes(base64.b64decode(opening_secret_b64))
    data_key = HPKE_SUITE.decrypt(
        base64.b64decode(header["wrapped_key"]), secret, info=info(tender, lot, bidder)
    )
    aad = hashlib.sha256(header_bytes).digest()
    body = data[12 + header_len:-68]
    full = len(body) // SEALED
    last_len = len(body) - full * SEALED
    assert 16 <= last_len < SEALED, "layout"
    aes = AESGCM(data_key)
    plaintext = bytearray()
    for index in range(full + 1):
        piece = body[index * SEALED:(index + 1) * SEALED]
        plaintext += aes.decrypt(nonce(index, index == full), piece, aad)
    with open(out_path, "wb") as f:
        f.write(plaintext)


if __name__ == "__main__":
    if sys.argv[1] == "seal":
        seal(*sys.argv[2:8])
    elif sys.argv[1] == "open":
        open_envelope(*sys.argv[2:9])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
