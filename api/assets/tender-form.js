// The guided tender form: as the tenderer types, the same checks that refuse a publication run
// on the server (POST /api/v1/tenders/check, nothing saved) and their answer is shown beside the
// deadline: the legal minimum of the chosen procedure, the earliest deadline, or the refusal.
'use strict';

(function () {
  const form = document.getElementById('tender-form');
  const out = document.getElementById('legal-check');
  const words = document.getElementById('check-words');
  if (!form || !out || !words) return;
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : '');

  function body() {
    const lots = [];
    for (const n of [1, 2]) {
      const title = value('lot' + n + '_title');
      const budget = value('lot' + n + '_budget');
      if (n > 1 && !title && !budget) continue;
      const lot = { id: String(n), title, budget, deposit: value('lot' + n + '_deposit') || '0' };
      if (value('lot' + n + '_ceiling')) lot.price_ceiling = value('lot' + n + '_ceiling');
      lots.push(lot);
    }
    const deadline = value('bid_deadline');
    const input = {
      title: value('title') || '-', kind: value('kind'), procedure: value('procedure'),
      award_method: value('award_method'), lots,
      // datetime-local is Beijing time, as the form says.
      bid_deadline: deadline ? (deadline.length === 16 ? deadline + ':00' : deadline) + '+08:00' : '',
    };
    if (value('document_fee')) input.document_fee = value('document_fee');
    if (value('bid_validity_days')) input.bid_validity_days = Number(value('bid_validity_days'));
    if (value('accelerator')) input.accelerator = Number(value('accelerator'));
    if (value('region')) input.region = value('region');
    if (value('tenderer_id')) input.tenderer_id = value('tenderer_id');
    return input;
  }

  let timer = null;
  let asked = 0;
  async function check() {
    const input = body();
    if (!input.bid_deadline || !input.lots.length || !input.lots[0].budget) return;
    const mine = ++asked;
    let answer;
    try {
      const res = await fetch('/api/v1/tenders/check', {
        method: 'POST', headers: { 'content-type': 'application/json', 'accept-language': document.documentElement.lang },
        body: JSON.stringify(input),
      });
      answer = await res.json();
    } catch (e) {
      return;
    }
    if (mine !== asked) return; // a later check is on its way
    const lines = [];
    if (answer.min_period) lines.push(words.dataset.min + ' ' + answer.min_period);
    if (answer.earliest_bid_deadline) {
      lines.push(words.dataset.earliest + ' ' + new Date(answer.earliest_bid_deadline).toLocaleString(document.documentElement.lang, { timeZone: 'Asia/Shanghai' }));
    }
    if (answer.min_bids) lines.push(words.dataset.bids + ' ' + answer.min_bids);
    const problem = answer.refusal || (answer.code ? answer : null);
    out.hidden = false;
    out.className = problem ? 'error' : 'notice';
    out.dataset.code = problem ? problem.code : 'ok';
    out.textContent = (problem ? problem.detail : words.dataset.ok) + (lines.length ? ' · ' + lines.join(' · ') : '');
  }
  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });
  form.addEventListener('change', check);
  check();
})();
