// SHA-256, streaming (FIPS 180-4), for the bid page (api/assets/seal.js) and its hashing worker
// (api/assets/seal-worker.js): WebCrypto's digest takes a whole input at once, and the envelope's
// signature covers up to gigabytes. Loaded by a <script> tag on the page and by importScripts in
// the worker; it defines `self.tenderhallSha256 = { Sha256, ready, usesWasm }`.
'use strict';

(function (scope) {
  function u32(n) { return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]); }

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

  scope.tenderhallSha256 = { Sha256, ready: wasmReady, usesWasm: () => wasm !== null };
})(self);
