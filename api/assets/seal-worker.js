// The bid page's sealing thread (a dedicated Worker started by api/assets/seal.js): the body of
// the envelope of docs/spec/envelope.md, read, sealed and hashed here so that the page stays
// responsive and the three run side by side: the browser reads the files, WebCrypto encrypts
// 64 KiB chunks on its own thread, and this thread hashes the sealed chunks in order (one
// sequential SHA-256 over the envelope, the slowest part) and gathers them into Blobs of a few
// MiB, which the browser keeps out of the page's memory.
//
// In: {seal: {key, aad, prefix, pieces, total}} (key an AES-GCM CryptoKey, pieces Uint8Arrays and
// Files: the ustar archive), then {trailer: bytes}. Out: {progress: bytes done}, {body: {digest,
// blobs}} (the hash the signature covers, the sealed chunks), {sha256} (the whole envelope's, for
// the receipt), or {error: text}.
'use strict';

importScripts('/assets/sha256.js');

(function () {
  const { Sha256, ready } = self.tenderhallSha256;
  const CHUNK = 65536;
  const READ = 1024 * 1024;
  const BLOB_BYTES = 4 * 1024 * 1024;
  const IN_FLIGHT = 32;
  let hash = null;

  function chunkNonce(i, last) {
    const n = new Uint8Array(12);
    let v = i;
    for (let j = 10; j >= 0 && v > 0; j--) { n[j] = v % 256; v = Math.floor(v / 256); }
    n[11] = last ? 1 : 0;
    return n;
  }

  /// Calls `use` with the archive's bytes in pieces of at most READ bytes. Files are read through
  /// a byte stream into one reused buffer where the browser offers that, so reading makes no
  /// garbage; `use` must be done with a piece when it returns (WebCrypto copies what it is given).
  async function read(pieces, use) {
    let buffer = new ArrayBuffer(READ);
    for (const p of pieces) {
      if (p instanceof Uint8Array) { await use(p); continue; }
      let reader = null;
      try { reader = p.stream().getReader({ mode: 'byob' }); } catch (_) { reader = null; }
      if (!reader) {
        for (let at = 0; at < p.size; at += READ) {
          await use(new Uint8Array(await p.slice(at, Math.min(p.size, at + READ)).arrayBuffer()));
        }
        continue;
      }
      for (;;) {
        const { value, done } = await reader.read(new Uint8Array(buffer, 0, READ));
        if (done) { if (value) buffer = value.buffer; break; }
        buffer = value.buffer;
        await use(value);
      }
    }
  }

  async function seal({ key, aad, prefix, pieces, total }) {
    await ready;
    hash = new Sha256().update(prefix);
    const full = Math.floor(total / CHUNK); // chunks before the last, which may be empty
    const blobs = [];
    let batch = [], batchBytes = 0;
    const pending = [];
    let index = 0, done = 0, reported = 0;

    async function drain(keep) {
      while (pending.length > keep) {
        const bytes = new Uint8Array(await pending.shift());
        hash.update(bytes);
        batch.push(bytes);
        batchBytes += bytes.length;
        if (batchBytes >= BLOB_BYTES) {
          blobs.push(new Blob(batch));
          batch = []; batchBytes = 0;
        }
      }
    }
    async function sealChunk(bytes, last) {
      pending.push(crypto.subtle.encrypt({ name: 'AES-GCM', iv: chunkNonce(index, last), additionalData: aad }, key, bytes));
      index += 1;
      if (pending.length >= IN_FLIGHT) await drain(IN_FLIGHT / 2);
    }

    const buffer = new Uint8Array(CHUNK);
    let fill = 0;
    await read(pieces, async (piece) => {
      let at = 0;
      while (at < piece.length) {
        if (fill === 0 && piece.length - at >= CHUNK && index < full) {
          // A whole chunk in the piece: sealed from where it lies, without a copy.
          await sealChunk(piece.subarray(at, at + CHUNK), false);
          at += CHUNK; done += CHUNK;
          continue;
        }
        const take = Math.min(CHUNK - fill, piece.length - at);
        buffer.set(piece.subarray(at, at + take), fill);
        fill += take; at += take; done += take;
        if (fill === CHUNK && index < full) {
          await sealChunk(buffer, false);
          fill = 0;
        }
      }
      if (done - reported >= READ || done === total) {
        reported = done;
        self.postMessage({ progress: done });
      }
    });
    await sealChunk(buffer.subarray(0, fill), true);
    await drain(0);
    if (batch.length) blobs.push(new Blob(batch));
    self.postMessage({ body: { digest: hash.clone().digest(), blobs } });
  }

  self.onmessage = ({ data: m }) => {
    const work = m.seal ? seal(m.seal) : Promise.resolve().then(() => {
      hash.update(m.trailer);
      self.postMessage({ sha256: hash.digest() });
      hash = null;
    });
    work.catch((e) => self.postMessage({ error: String(e && e.message ? e.message : e) }));
  };
})();
