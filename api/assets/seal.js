// Sealing and signing a bid in the browser: the envelope of docs/spec/envelope.md (version 1),
// produced on the bidder's machine with WebCrypto (X25519, HKDF, AES-256-GCM, Ed25519); the files
// never leave it unencrypted. The plaintext (a ustar archive, price.json first) is read from the
// chosen files in pieces and sealed chunk by chunk; sealed chunks are handed to Blobs every few
// MiB, which the browser keeps out of the page's memory, so a 1 GiB bid needs no 1 GiB of it.
// The SHA-256 the signature covers is computed in a streaming way, in a worker beside the
// encryption (api/assets/seal-worker.js, api/assets/sha256.js).
'use strict';

(function () {
  const enc = new TextEncoder();
  const CHUNK = 65536;
  const SUITE = 'HPKE-X25519-SHA256-AES256GCM/STREAM-AES256GCM-64K';
  const sha = self.tenderhallSha256; // api/assets/sha256.js, loaded before this script

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

  // ---- the envelope --------------------------------------------------------------------------
  /// Runs the sealing thread (api/assets/seal-worker.js) over the archive: answers the body's
  /// hash and Blobs, and a function that finishes the envelope's hash with the trailer.
  function sealBody(message, progress) {
    const worker = new Worker('/assets/seal-worker.js');
    let next = null;
    const answer = () => new Promise((resolve, reject) => { next = { resolve, reject }; });
    worker.onmessage = ({ data: m }) => {
      if (m.progress !== undefined) { if (progress) progress(m.progress); return; }
      const waiting = next; next = null;
      if (!waiting) return;
      if (m.error) { worker.terminate(); waiting.reject(new Error(m.error)); } else waiting.resolve(m);
    };
    worker.onerror = (e) => {
      worker.terminate();
      if (next) next.reject(new Error(e.message || 'the sealing worker failed'));
    };
    const body = answer();
    worker.postMessage({ seal: message });
    return body.then(({ body: { digest, blobs } }) => ({
      digest,
      blobs,
      /// Stops the worker (after a failure between the body and the trailer).
      close() { worker.terminate(); },
      async finish(trailer) {
        const done = answer();
        worker.postMessage({ trailer });
        const { sha256 } = await done;
        worker.terminate();
        return sha256;
      },
    }));
  }

  /**
   * Seals and signs a bid. `price` is price.json's object (strings), `files` File objects,
   * `signingKey` an Ed25519 CryptoKey. Answers {blob, sha256, size}; `progress(done, total)`
   * follows the plaintext.
   */
  async function sealBid({ tender, lot, bidder, recipient, signingKey, signerKeyId, price, files, progress }) {
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

    const entries = [{ name: 'price.json', data: enc.encode(JSON.stringify(price)) }];
    for (const f of files) entries.push({ name: f.name, data: f });
    const { pieces, total } = archive(entries);
    const body = await sealBody({ key, aad, prefix, pieces, total },
      (done) => { if (progress) progress(done, total); });
    let trailer;
    try {
      const signature = new Uint8Array(await subtle.sign('Ed25519', signingKey,
        concat(enc.encode('tenderhall/bid-signature/v1|'), body.digest)));
      trailer = concat(enc.encode('SIG1'), signature);
    } catch (e) {
      body.close();
      throw e;
    }
    const sha256 = await body.finish(trailer);
    const blobs = body.blobs;
    const blob = new Blob([prefix, ...blobs, trailer], { type: 'application/vnd.tenderhall.bid' });
    return { blob, sha256: hex(sha256), size: blob.size };
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
    await sha.ready;
    const h = new sha.Sha256();
    for (let at = 0; at < bytes.length; at += step) h.update(bytes.subarray(at, Math.min(bytes.length, at + step)));
    return { hex: hex(h.digest()), wasm: sha.usesWasm() };
  }

  window.tenderhallSeal = { sealBid, sha256Hex, importSigningKey, generateSigningKey, keyId, Sha256: sha.Sha256, hpkeSeal, b64, unb64, hex };

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
