// Sealing and signing a bid in the browser: the envelope of docs/spec/envelope.md (version 1),
// produced on the bidder's machine with WebCrypto (X25519, HKDF, AES-256-GCM, Ed25519); the files
// never leave it unencrypted. The plaintext (a ustar archive, price.json first) is read from the
// chosen files in pieces and sealed chunk by chunk; sealed chunks are handed to Blobs every few
// MiB, which the browser keeps out of the page's memory, so a 1 GiB bid needs no 1 GiB of it.
// The SHA-256 the signature covers is computed here in a streaming way (WebCrypto's digest takes
// the whole input at once).
'use strict';

(function () {
  const enc = new TextEncoder();
  const CHUNK = 65536;
  const SUITE = 'HPKE-X25519-SHA256-AES256GCM/STREAM-AES256GCM-64K';

  // ---- bytes -------------------------------------------------------------------------------
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function b64(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }
  function unb64(text) {
    const bin = atob(text.replace(/\s+/g, ''));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''); }
  function u16(n) { return new Uint8Array([(n >>> 8) & 255, n & 255]); }
  function u32(n) { return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]); }

  // ---- SHA-256, streaming (FIPS 180-4) ------------------------------------------------------
  // The compression runs in WebAssembly (/assets/sha256.wasm, assembled from sha256.wat at build
  // time) where the browser allows it, about twice as fast as the same in JavaScript below, which
  // remains the fallback.
  let wasm = null;
  const wasmReady = (typeof WebAssembly === 'object'
    ? WebAssembly.instantiateStreaming(fetch('/assets/sha256.wasm'))
      .then(({ instance }) => {
        const memory = instance.exports.memory;
        wasm = { blocks: instance.exports.blocks, bytes: new Uint8Array(memory.buffer), state: new Int32Array(memory.buffer, 0, 8) };
      })
    : Promise.resolve()).catch(() => { wasm = null; });
  const WASM_INPUT = 1024;
  const WASM_SPAN = 192 * 1024;

  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

  class Sha256 {
    constructor() {
      this.h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
      this.w = new Int32Array(64);
      this.buf = new Uint8Array(64);
      this.fill = 0;
      this.length = 0;
    }
    clone() {
      const c = new Sha256();
      c.h.set(this.h); c.buf.set(this.buf); c.fill = this.fill; c.length = this.length;
      return c;
    }
    blocks(data, at, end) {
      if (wasm) {
        const whole = end - ((end - at) % 64);
        wasm.state.set(this.h);
        while (at < whole) {
          const take = Math.min(WASM_SPAN, whole - at);
          wasm.bytes.set(data.subarray(at, at + take), WASM_INPUT);
          wasm.blocks(WASM_INPUT, take / 64);
          at += take;
        }
        this.h.set(wasm.state);
        return at;
      }
      const w = this.w, h = this.h;
      let h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7];
      for (; at + 64 <= end; at += 64) {
        for (let i = 0; i < 16; i++) {
          const j = at + i * 4;
          w[i] = (data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3];
        }
        for (let i = 16; i < 64; i++) {
          const a = w[i - 15], b = w[i - 2];
          const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
          const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
          w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
        }
        let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, hh = h7;
        for (let i = 0; i < 64; i++) {
          const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
          const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
          const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
          const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
          hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
        }
        h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
        h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + hh) | 0;
      }
      h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
      return at;
    }
    update(data) {
      this.length += data.length;
      let at = 0;
      if (this.fill > 0) {
        const take = Math.min(64 - this.fill, data.length);
        this.buf.set(data.subarray(0, take), this.fill);
        this.fill += take;
        at = take;
        if (this.fill < 64) return this;
        this.blocks(this.buf, 0, 64);
        this.fill = 0;
      }
      at = this.blocks(data, at, data.length);
      this.buf.set(data.subarray(at), 0);
      this.fill = data.length - at;
      return this;
    }
    digest() {
      const bits = this.length * 8;
      const pad = new Uint8Array(((this.fill < 56 ? 56 : 120) - this.fill) + 8);
      pad[0] = 0x80;
      const hi = Math.floor(bits / 0x100000000), lo = bits >>> 0;
      pad.set(u32(hi), pad.length - 8);
      pad.set(u32(lo), pad.length - 4);
      this.update(pad);
      const out = new Uint8Array(32);
      for (let i = 0; i < 8; i++) out.set(u32(this.h[i] >>> 0), i * 4);
      return out;
    }
  }

  // ---- HPKE, RFC 9180: base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM ------
  const subtle = crypto.subtle;
  async function hmac(key, data) {
    // An empty salt is HashLen zero bytes (RFC 5869 §2.2); HMAC pads keys with zeros anyway.
    const k = await subtle.importKey('raw', key.length ? key : new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Uint8Array(await subtle.sign('HMAC', k, data));
  }
  const extract = (salt, ikm) => hmac(salt, ikm);
  async function expand(prk, info, length) {
    // length ≤ 32 here: one block.
    const t = await hmac(prk, concat(info, new Uint8Array([1])));
    return t.slice(0, length);
  }
  const V1 = enc.encode('HPKE-v1');
  const labeledExtract = (suite, salt, label, ikm) => extract(salt, concat(V1, suite, enc.encode(label), ikm));
  const labeledExpand = (suite, prk, label, info, length) =>
    expand(prk, concat(u16(length), V1, suite, enc.encode(label), info), length);
  const KEM_SUITE = concat(enc.encode('KEM'), u16(0x0020));
  const HPKE_SUITE = concat(enc.encode('HPKE'), u16(0x0020), u16(0x0001), u16(0x0002));

  /// Seals `plaintext` to the raw X25519 key `recipient`: enc ‖ ciphertext (32 + len + 16 bytes).
  async function hpkeSeal(recipient, info, plaintext) {
    const eph = await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
    const encapsulated = new Uint8Array(await subtle.exportKey('raw', eph.publicKey));
    const pkR = await subtle.importKey('raw', recipient, { name: 'X25519' }, false, []);
    const dh = new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: pkR }, eph.privateKey, 256));
    const eaePrk = await labeledExtract(KEM_SUITE, new Uint8Array(0), 'eae_prk', dh);
    const shared = await labeledExpand(KEM_SUITE, eaePrk, 'shared_secret', concat(encapsulated, recipient), 32);
    const pskIdHash = await labeledExtract(HPKE_SUITE, new Uint8Array(0), 'psk_id_hash', new Uint8Array(0));
    const infoHash = await labeledExtract(HPKE_SUITE, new Uint8Array(0), 'info_hash', info);
    const context = concat(new Uint8Array([0]), pskIdHash, infoHash);
    const secret = await labeledExtract(HPKE_SUITE, shared, 'secret', new Uint8Array(0));
    const key = await labeledExpand(HPKE_SUITE, secret, 'key', context, 32);
    const nonce = await labeledExpand(HPKE_SUITE, secret, 'base_nonce', context, 12);
    const aead = await subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
    const sealed = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce }, aead, plaintext));
    return concat(encapsulated, sealed);
  }

  // ---- the plaintext: a POSIX ustar archive, price.json first --------------------------------
  function tarHeader(nameBytes, size) {
    const h = new Uint8Array(512);
    let name = nameBytes, prefix = new Uint8Array(0);
    if (nameBytes.length > 100) {
      // Split at a '/' so the prefix (155) and the name (100) fit, as ustar asks.
      let cut = -1;
      for (let i = nameBytes.length - 1; i >= 0; i--) {
        if (nameBytes[i] === 0x2f && i <= 155 && nameBytes.length - i - 1 <= 100) { cut = i; break; }
      }
      if (cut < 0) throw new Error('name too long: ' + new TextDecoder().decode(nameBytes));
      prefix = nameBytes.subarray(0, cut);
      name = nameBytes.subarray(cut + 1);
    }
    h.set(name, 0);
    const octal = (n, width) => enc.encode(n.toString(8).padStart(width - 1, '0') + '\0');
    h.set(octal(0o644, 8), 100);
    h.set(octal(0, 8), 108);
    h.set(octal(0, 8), 116);
    h.set(octal(size, 12), 124);
    h.set(octal(Math.floor(Date.now() / 1000), 12), 136);
    h.set(enc.encode('        '), 148);
    h[156] = 0x30; // a regular file
    h.set(enc.encode('ustar\0'), 257);
    h.set(enc.encode('00'), 263);
    h.set(prefix, 345);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += h[i];
    h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
    return h;
  }

  /// The archive as a list of pieces: Uint8Arrays and Blobs (the files, read later in slices).
  function archive(entries) {
    const pieces = [];
    let total = 0;
    for (const { name, data } of entries) {
      const size = data.size !== undefined ? data.size : data.length;
      pieces.push(tarHeader(enc.encode(name), size), data);
      const pad = (512 - (size % 512)) % 512;
      if (pad) pieces.push(new Uint8Array(pad));
      total += 512 + size + pad;
    }
    pieces.push(new Uint8Array(1024));
    return { pieces, total: total + 1024 };
  }

  /// Yields the archive's bytes in pieces of at most `step` bytes, reading files as it goes.
  async function* read(pieces, step) {
    for (const p of pieces) {
      if (p instanceof Uint8Array) { yield p; continue; }
      for (let at = 0; at < p.size; at += step) {
        yield new Uint8Array(await p.slice(at, Math.min(p.size, at + step)).arrayBuffer());
      }
    }
  }

  // ---- the envelope --------------------------------------------------------------------------
  function chunkNonce(i, last) {
    const n = new Uint8Array(12);
    let v = i;
    for (let j = 10; j >= 0 && v > 0; j--) { n[j] = v % 256; v = Math.floor(v / 256); }
    n[11] = last ? 1 : 0;
    return n;
  }

  /**
   * Seals and signs a bid. `price` is price.json's object (strings), `files` File objects,
   * `signingKey` an Ed25519 CryptoKey. Answers {blob, sha256, size}; `progress(done, total)`
   * follows the plaintext.
   */
  async function sealBid({ tender, lot, bidder, recipient, signingKey, signerKeyId, price, files, progress }) {
    await wasmReady;
    const recipientRaw = unb64(recipient);
    const recipientId = hex(new Uint8Array(await subtle.digest('SHA-256', recipientRaw)));
    const dataKey = crypto.getRandomValues(new Uint8Array(32));
    const info = enc.encode('tenderhall/bid/v1|' + tender + '|' + lot + '|' + bidder);
    const wrapped = await hpkeSeal(recipientRaw, info, dataKey);
    const header = enc.encode(JSON.stringify({
      v: 1, tender, lot, bidder, suite: SUITE, recipient: recipientId, signer: signerKeyId,
      wrapped_key: b64(wrapped), chunk_size: CHUNK, created_at: new Date().toISOString(),
    }));
    const aad = new Uint8Array(await subtle.digest('SHA-256', header));
    const key = await subtle.importKey('raw', dataKey, 'AES-GCM', false, ['encrypt']);
    dataKey.fill(0);
    const prefix = concat(enc.encode('THBID'), new Uint8Array([0, 1, 0]), u32(header.length), header);
    const hash = new Sha256().update(prefix);

    const entries = [{ name: 'price.json', data: enc.encode(JSON.stringify(price)) }];
    for (const f of files) entries.push({ name: f.name, data: f });
    const { pieces, total } = archive(entries);
    const full = Math.floor(total / CHUNK); // chunks before the last, which may be empty

    const blobs = [];
    let batch = [], batchBytes = 0;
    const buffer = new Uint8Array(CHUNK);
    let fill = 0, index = 0, done = 0;
    // Chunks in flight: WebCrypto encrypts the next ones while this thread reads and hashes the
    // ones done, in order.
    const pending = [];
    async function drain(keep) {
      while (pending.length > keep) {
        const bytes = new Uint8Array(await pending.shift());
        hash.update(bytes);
        batch.push(bytes);
        batchBytes += bytes.length;
        if (batchBytes >= 8 * 1024 * 1024) {
          blobs.push(new Blob(batch));
          batch = []; batchBytes = 0;
        }
      }
    }
    async function sealChunk(bytes, last) {
      pending.push(subtle.encrypt({ name: 'AES-GCM', iv: chunkNonce(index, last), additionalData: aad }, key, bytes));
      index += 1;
      if (pending.length >= 32) await drain(16);
    }
    for await (const piece of read(pieces, 1024 * 1024)) {
      let at = 0;
      while (at < piece.length) {
        const take = Math.min(CHUNK - fill, piece.length - at);
        buffer.set(piece.subarray(at, at + take), fill);
        fill += take; at += take; done += take;
        if (fill === CHUNK && index < full) {
          await sealChunk(buffer.slice(), false);
          fill = 0;
        }
      }
      if (progress) progress(done, total);
    }
    await sealChunk(buffer.slice(0, fill), true);
    await drain(0);
    if (batch.length) blobs.push(new Blob(batch));

    const digest = hash.clone().digest();
    const signature = new Uint8Array(await subtle.sign('Ed25519', signingKey,
      concat(enc.encode('tenderhall/bid-signature/v1|'), digest)));
    const trailer = concat(enc.encode('SIG1'), signature);
    hash.update(trailer);
    const blob = new Blob([prefix, ...blobs, trailer], { type: 'application/vnd.tenderhall.bid' });
    return { blob, sha256: hex(hash.digest()), size: blob.size };
  }

  // ---- signing keys ----------------------------------------------------------------------------
  /// A PKCS#8 Ed25519 key as `tenderhall keygen` (DER, v2), OpenSSL or Python (v1, PEM) write it:
  /// its 32-byte seed, re-wrapped as v1 for WebCrypto.
  async function importSigningKey(bytes) {
    let der = bytes;
    const text = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 40)));
    if (text.startsWith('-----BEGIN')) {
      const pem = new TextDecoder().decode(bytes);
      der = unb64(pem.replace(/-----[^-]+-----/g, ''));
    }
    let seed = null;
    for (let i = 0; i + 36 <= der.length; i++) {
      if (der[i] === 0x04 && der[i + 1] === 0x22 && der[i + 2] === 0x04 && der[i + 3] === 0x20) {
        seed = der.subarray(i + 4, i + 36);
        break;
      }
    }
    if (!seed) throw new Error('not a PKCS#8 Ed25519 key');
    const v1 = concat(new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]), seed);
    const privateKey = await subtle.importKey('pkcs8', v1, { name: 'Ed25519' }, true, ['sign']);
    // The public half, from the private key's JWK (x), to name the key by its id.
    const jwk = await subtle.exportKey('jwk', privateKey);
    const publicRaw = unb64(jwk.x.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (jwk.x.length % 4)) % 4));
    return { privateKey, publicRaw, pkcs8: v1 };
  }

  async function generateSigningKey() {
    const pair = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    const publicRaw = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
    const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey));
    return { privateKey: pair.privateKey, publicRaw, pkcs8 };
  }

  async function keyId(publicRaw) { return hex(new Uint8Array(await subtle.digest('SHA-256', publicRaw))); }

  /// The SHA-256 of `bytes`, through the streaming hasher (the tests compare it with others).
  async function sha256Hex(bytes, step) {
    await wasmReady;
    const h = new Sha256();
    for (let at = 0; at < bytes.length; at += step) h.update(bytes.subarray(at, Math.min(bytes.length, at + step)));
    return { hex: hex(h.digest()), wasm: wasm !== null };
  }

  window.tenderhallSeal = { sealBid, sha256Hex, importSigningKey, generateSigningKey, keyId, Sha256, hpkeSeal, b64, unb64, hex };

  // ---- the page ----------------------------------------------------------------------------------
  const form = document.getElementById('seal-form');
  if (!form) return;
  const data = form.dataset;
  const $ = (id) => document.getElementById(id);
  const say = (id, text, bad) => { const el = $(id); el.textContent = text; el.className = bad ? 'error' : 'notice'; el.hidden = false; };
  let signing = null;

  async function useKey(k, register) {
    const id = await keyId(k.publicRaw);
    if (register) {
      const res = await fetch('/api/v1/organizations/' + encodeURIComponent(data.bidder) + '/signing-keys', {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': data.csrf, 'accept-language': document.documentElement.lang },
        body: JSON.stringify({ public_key: b64(k.publicRaw) }),
      });
      if (!res.ok && res.status !== 409) {
        const p = await res.json().catch(() => ({}));
        throw new Error(p.detail || res.status);
      }
    }
    signing = { key: k.privateKey, id };
    say('key-status', data.keyReady + ' ' + id, false);
    $('seal-submit').disabled = false;
  }

  $('key-generate').addEventListener('click', async () => {
    try {
      const k = await generateSigningKey();
      // The bidder keeps its key: offered as a file, in the format `tenderhall keygen` writes.
      const link = $('key-download');
      link.href = URL.createObjectURL(new Blob([k.pkcs8], { type: 'application/pkcs8' }));
      link.download = 'signing-key.pk8';
      link.hidden = false;
      await useKey(k, true);
    } catch (e) {
      say('key-status', data.keyFailed + ' ' + e.message, true);
    }
  });
  $('key-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      const k = await importSigningKey(new Uint8Array(await file.arrayBuffer()));
      await useKey(k, $('key-register').checked);
    } catch (e) {
      say('key-status', data.keyFailed + ' ' + e.message, true);
    }
  });

  function upload(blob) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', '/api/v1/tenders/' + encodeURIComponent(data.tender) + '/lots/' + encodeURIComponent(data.lot) + '/bid');
      xhr.setRequestHeader('content-type', 'application/vnd.tenderhall.bid');
      xhr.setRequestHeader('x-csrf-token', data.csrf);
      xhr.setRequestHeader('accept-language', document.documentElement.lang);
      xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) $('upload-bar').value = Math.round((100 * e.loaded) / e.total); });
      xhr.addEventListener('load', () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = { detail: xhr.responseText }; }
        if (xhr.status === 201) resolve(body); else reject(new Error((body.code ? body.code + ': ' : '') + (body.detail || xhr.status)));
      });
      xhr.addEventListener('error', () => reject(new Error(data.networkFailed)));
      xhr.send(blob);
    });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!signing) { say('seal-status', data.keyMissing, true); return; }
    const price = { lot: data.lot, currency: 'CNY', total_price: $('total_price').value.trim() };
    for (const input of form.querySelectorAll('[data-opening-field]')) price[input.name] = input.value.trim();
    const files = Array.from($('bid-files').files);
    $('seal-submit').disabled = true;
    $('seal-bar').hidden = false; $('upload-bar').hidden = false;
    const started = performance.now();
    try {
      say('seal-status', data.sealing, false);
      const sealed = await sealBid({
        tender: data.tender, lot: data.lot, bidder: data.bidder, recipient: data.recipient,
        signingKey: signing.key, signerKeyId: signing.id, price, files,
        progress: (done, total) => { $('seal-bar').value = Math.round((100 * done) / total); },
      });
      const sealedIn = performance.now() - started;
      form.dataset.sealMs = String(Math.round(sealedIn));
      form.dataset.envelopeSize = String(sealed.size);
      say('seal-status', data.uploading, false);
      const receipt = await upload(sealed.blob);
      if (receipt.envelope_sha256 !== sealed.sha256) throw new Error(data.hashMismatch);
      const ok = await window.tenderhall.verifySigned(receipt, data.platformKey);
      if (!ok) throw new Error(data.receiptBad);
      $('receipt-json').textContent = JSON.stringify(receipt, null, 2);
      const link = $('receipt-download');
      link.href = URL.createObjectURL(new Blob([JSON.stringify(receipt, null, 2)], { type: 'application/json' }));
      link.download = 'receipt-' + data.tender + '-' + data.lot + '-' + receipt.seq + '.json';
      link.hidden = false;
      say('seal-status', data.submitted + ' ' + receipt.envelope_sha256, false);
      $('seal-status').dataset.done = 'ok';
    } catch (e) {
      say('seal-status', data.failed + ' ' + e.message, true);
      $('seal-status').dataset.done = 'failed';
    } finally {
      $('seal-submit').disabled = false;
    }
  });

  // The deposit's live status: the registration read again every few seconds.
  const live = $('deposit-live');
  if (live && live.dataset.registration) {
    const poll = async () => {
      try {
        const res = await fetch('/api/v1/tenders/' + encodeURIComponent(data.tender) + '/lots/' + encodeURIComponent(data.lot)
          + '/registrations/' + encodeURIComponent(live.dataset.registration), { headers: { 'x-csrf-token': data.csrf } });
        if (res.ok) {
          const r = await res.json();
          $('deposit-paid').textContent = r.paid.amount + ' ' + r.paid.currency;
          $('deposit-status').textContent = live.dataset[r.deposit_status] || r.deposit_status;
          $('deposit-status').dataset.status = r.deposit_status;
        }
      } catch (e) { /* the next poll tries again */ }
    };
    setInterval(poll, 3000);
  }
  // The sandbox bank: pays an account as a bank would notify the platform of it.
  for (const button of document.querySelectorAll('button[data-sandbox-pay]')) {
    button.hidden = false;
    button.addEventListener('click', async () => {
      const res = await fetch('/api/v1/sandbox/bank/pay', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ account_no: button.dataset.sandboxPay, amount: button.dataset.amount }),
      });
      const out = await res.json().catch(() => ({}));
      button.nextElementSibling.textContent = out.status || out.detail || res.status;
    });
  }
})();
