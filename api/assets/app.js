// Tenderhall portal: the few things a page cannot do without a script. Every form works without it.
// - countdowns to a deadline, on the server's clock (the page says what time the server had);
// - checking a signed record (opening record, receipt) against the platform key, in the browser.
'use strict';

(function () {
  const serverMeta = document.querySelector('meta[name="server-time"]');
  // The server's clock is the one that counts: correct the visitor's clock by the difference
  // seen when the page arrived.
  const skew = serverMeta ? Date.parse(serverMeta.content) - Date.now() : 0;

  function pad(n) { return String(n).padStart(2, '0'); }

  function tick() {
    const now = Date.now() + skew;
    document.querySelectorAll('[data-deadline]').forEach((el) => {
      const left = Date.parse(el.dataset.deadline) - now;
      if (left <= 0) {
        el.textContent = el.dataset.passed || '—';
        return;
      }
      const s = Math.floor(left / 1000);
      const days = Math.floor(s / 86400);
      const clock = pad(Math.floor(s / 3600) % 24) + ':' + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60);
      el.textContent = (days > 0 ? days + (el.dataset.days || 'd') + ' ' : '') + clock;
    });
  }
  if (document.querySelector('[data-deadline]')) {
    tick();
    setInterval(tick, 1000);
  }

  // RFC 8785 canonical JSON for the values a signed record holds (strings, integers, booleans,
  // null, arrays, objects): keys sorted by UTF-16 code units, no white space.
  function canonical(v) {
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
  }
  function fromBase64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  async function verifySigned(document_, publicKeyBase64) {
    const unsigned = Object.assign({}, document_);
    delete unsigned.signature;
    const key = await crypto.subtle.importKey('raw', fromBase64(publicKeyBase64), { name: 'Ed25519' }, false, ['verify']);
    return crypto.subtle.verify({ name: 'Ed25519' }, key, fromBase64(document_.signature),
      new TextEncoder().encode(canonical(unsigned)));
  }
  window.tenderhall = { canonical, fromBase64, verifySigned };

  document.querySelectorAll('button[data-verify]').forEach((button) => {
    button.hidden = false;
    button.addEventListener('click', async () => {
      const out = document.getElementById(button.dataset.result);
      let ok = false;
      try {
        const record = JSON.parse(document.getElementById(button.dataset.verify).textContent);
        ok = await verifySigned(record, button.dataset.key);
      } catch (e) {
        ok = false;
      }
      out.textContent = ok ? button.dataset.ok : button.dataset.bad;
      out.className = 'verify-result ' + (ok ? 'ok' : 'bad');
    });
  });
})();
