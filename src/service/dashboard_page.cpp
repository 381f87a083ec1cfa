#include "dashboard_page.h"

namespace bucketpay::service {
namespace {

// Keep it self-contained: the Content-Security-Policy of GET / allows no external resource.
constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>bucketpay dashboard</title>
<style>
  :root { --bg:#0f1419; --panel:#182029; --text:#dbe3ea; --dim:#8a99a8; --ok:#4cc38a; --ready:#4c9be8;
          --notes:#5a6b7c; --bad:#e5534b; }
  * { box-sizing: border-box; }
  [hidden] { display:none !important; }  /* else main's display:grid would show it hidden */
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:16px; padding:12px 20px; background:var(--panel); }
  header h1 { font-size:18px; margin:0; }
  #status { color:var(--dim); margin-left:auto; }
  #status.bad { color:var(--bad); }
  main { padding:16px 20px; display:grid; gap:16px; grid-template-columns:repeat(auto-fit, minmax(420px, 1fr)); }
  .tiles { display:grid; gap:12px; grid-template-columns:repeat(auto-fit, minmax(130px, 1fr)); grid-column:1/-1; }
  .tile { background:var(--panel); border-radius:8px; padding:10px 14px; }
  .tile .v { font-size:26px; font-weight:600; }
  .tile .k { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.05em; }
  section { background:var(--panel); border-radius:8px; padding:12px 14px; }
  section h2 { font-size:14px; margin:0 0 8px; color:var(--dim); font-weight:500; }
  canvas { width:100%; height:220px; display:block; }
  table { width:100%; border-collapse:collapse; font-size:13px; }
  th, td { text-align:left; padding:4px 6px; border-bottom:1px solid #24303c; }
  th { color:var(--dim); font-weight:500; }
  .legend span { display:inline-block; margin-right:12px; color:var(--dim); font-size:12px; }
  .legend i { display:inline-block; width:10px; height:10px; margin-right:4px; border-radius:2px; }
  form { padding:40px; text-align:center; }
  p.bad { color:var(--bad); font-weight:600; }
  #forget { background:#2c3a47; padding:4px 10px; font-size:12px; }
  input { width:min(640px, 90%); padding:8px; font:inherit; background:#0b0f13; color:var(--text);
          border:1px solid #2c3a47; border-radius:6px; }
  button { padding:8px 14px; font:inherit; border-radius:6px; border:0; background:var(--ready); color:#fff; }
  .scroll { overflow-x:auto; }
  td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
  td.short { color:var(--bad); font-weight:600; }
  .state-confirmed { color:var(--ok); } .state-failed { color:var(--bad); }
  .empty { color:var(--dim); font-style:italic; padding:8px 0; }
  .banner { grid-column:1/-1; background:var(--panel); border-left:4px solid var(--ready); padding:10px 14px;
            border-radius:8px; }
  .tile .s { color:var(--dim); font-size:12px; }
  .tile .v.bad { color:var(--bad); } .tile .v.good { color:var(--ok); }
  .tile .v.word { font-size:18px; line-height:31px; white-space:nowrap; }
  h3 { grid-column:1/-1; margin:4px 0 -6px; font-size:12px; color:var(--dim); text-transform:uppercase;
       letter-spacing:.05em; font-weight:500; }
</style>
</head>
<body>
<header><h1>bucketpay</h1><span id="wallet"></span><span id="status">connecting</span>
  <button id="forget" type="button" hidden>Forget token</button></header>
<form id="login" hidden>
  <p class="bad" id="login-message" role="alert" hidden></p>
  <p>Paste an API token (<code>bucketpay token create --wallet NAME</code>: a read token is enough).
     This tab keeps it in its session storage, never in the URL, until the tab is closed or you forget it.</p>
  <input id="token-input" type="password" autocomplete="off" placeholder="bpt_..."> <button>Open</button>
</form>
<main id="main" hidden>
  <div class="banner" id="empty-wallet" hidden></div>
  <h3>Balance</h3>
  <div class="tiles">
    <div class="tile"><div class="v" id="on-chain">-</div><div class="k">on chain</div></div>
    <div class="tile"><div class="v" id="ready-value">-</div><div class="k">with ready proofs</div></div>
    <div class="tile"><div class="v" id="pending">-</div><div class="k">pending</div></div>
    <div class="tile"><div class="v" id="reserved">-</div><div class="k">reserved (in flight)</div></div>
  </div>
  <h3>Chain, keeper and proofs</h3>
  <div class="tiles">
    <div class="tile"><div class="v" id="synced-block">-</div><div class="k">synced block</div>
      <div class="s" id="synced-age"></div></div>
    <div class="tile"><div class="v" id="node">-</div><div class="k">node</div><div class="s" id="node-detail"></div></div>
    <div class="tile"><div class="v" id="keeper">-</div><div class="k">keeper</div><div class="s" id="keeper-detail"></div></div>
    <div class="tile"><div class="v" id="proofs-ok">-</div><div class="k">proofs made</div>
      <div class="s">every process, from the store</div></div>
    <div class="tile"><div class="v" id="proofs-failed">-</div><div class="k">proofs failed</div></div>
    <div class="tile"><div class="v" id="queue-depth">-</div><div class="k">proof jobs waiting</div></div>
    <div class="tile"><div class="v" id="ready-precomputes">-</div><div class="k">notes with ready proofs</div></div>
    <div class="tile"><div class="v" id="workers">-</div><div class="k">workers here</div>
      <div class="s" id="workers-busy"></div></div>
  </div>
  <section><h2>Inventory per denomination (notes on chain, ready, and the policy's target)</h2>
    <canvas id="inventory-chart"></canvas>
    <div class="legend"><span><i style="background:var(--notes)"></i>notes</span>
      <span><i style="background:var(--ready)"></i>ready</span>
      <span><i style="background:var(--bad)"></i>target</span></div>
    <div class="scroll"><table><thead><tr><th>denomination</th><th class="num">target</th><th class="num">notes</th>
      <th class="num">ready</th><th class="num">short</th></tr></thead><tbody id="denominations"></tbody></table></div>
    <div class="empty" id="denominations-empty" hidden></div></section>
  <section><h2>Recent payments</h2>
    <div class="scroll"><table><thead><tr><th>time</th><th>#</th><th>kind</th><th class="num">amount</th><th>state</th>
      <th class="num">latency</th></tr></thead><tbody id="payments"></tbody></table></div>
    <div class="empty" id="payments-empty" hidden>No payments yet.</div></section>
  <section><h2>Proof jobs (every process: the CLI, workers, this server)</h2>
    <div class="scroll"><table><thead><tr><th>last change</th><th>batch</th><th class="num">done</th>
      <th class="num">failed</th><th class="num">waiting</th></tr></thead><tbody id="jobs"></tbody></table></div>
    <div class="empty" id="jobs-empty" hidden>No proof jobs yet.</div></section>
  <section><h2>Proof throughput of this server (proofs per 10 s, last 5 minutes)</h2><canvas id="throughput-chart"></canvas></section>
  <section><h2>This server's workers (proofs made; mean time per proof above each bar)</h2><canvas id="workers-chart"></canvas></section>
</main>
<script>
'use strict';
const $ = (id) => document.getElementById(id);
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
// The token: from a link's #token=... once (then out of the URL and its history entry at once), else
// what this tab kept in sessionStorage (gone with the tab; never localStorage, never the URL).
const kTokenKey = 'bucketpay-token';
function keep(t) { try { sessionStorage.setItem(kTokenKey, t); } catch (e) { /* storage off: this page only */ } }
function kept() { try { return sessionStorage.getItem(kTokenKey) || ''; } catch (e) { return ''; } }
function drop() { try { sessionStorage.removeItem(kTokenKey); } catch (e) { /* nothing kept */ } }
let token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
if (location.hash) history.replaceState(null, '', location.pathname + location.search);
if (token) keep(token); else token = kept();
let timer = null;
let generation = 0;  // a new token or a forget makes answers to earlier requests stale

function dollars(cents) { return '$' + (cents / 100).toFixed(2); }
function label(cents) { return cents >= 100 ? '$' + (cents / 100) : cents + 'c'; }
function plural(n, one, many) { return n + ' ' + (n === 1 ? one : (many || one + 's')); }
// "4 s ago", "3 min ago", "2 h ago": rounded as a person reads it.
function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  return Math.round(s / 3600) + ' h ago';
}
function time(ms) { return ms ? new Date(ms).toLocaleTimeString() : '-'; }
function latency(ms) { return ms >= 1000 ? (ms / 1000).toFixed(1) + ' s' : ms.toFixed(0) + ' ms'; }

// A canvas sized for the screen's pixel ratio; returns its 2D context and CSS size.
function surface(canvas) {
  const r = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * r) || canvas.height !== Math.round(h * r)) {
    canvas.width = Math.round(w * r); canvas.height = Math.round(h * r);
  }
  const g = canvas.getContext('2d');
  g.setTransform(r, 0, 0, r, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = '11px system-ui, sans-serif';
  return { g, w, h };
}

// A chart with nothing to show says so instead of drawing empty axes.
function emptyChart(canvas, text) {
  const { g, w, h } = surface(canvas);
  g.fillStyle = css('--dim');
  g.fillText(text, Math.max(4, (w - g.measureText(text).width) / 2), h / 2);
  canvas.dataset.clipped = '0';
}

// Grouped bars: labels on x, one bar per series in each group, a y axis from 0 with whole-number
// ticks. A series may annotate its bars (text above each); `marks` draws a tick per group (the
// targets). The y axis is as wide as its widest label, and x labels that would overlap or leave the
// canvas are skipped: canvas.dataset.clipped counts labels drawn outside it (0).
function bars(canvas, labels, series, marks) {
  const { g, w, h } = surface(canvas);
  const top = 16, bottom = 22;
  const values = series.flatMap((s) => s.values).concat(marks ? marks.values : []);
  const step = Math.max(1, Math.ceil(Math.max(1, ...values) / 4));
  const max = step * 4;
  const yLabelWidth = Math.ceil(g.measureText(String(max)).width);
  const left = yLabelWidth + 10, plotH = h - bottom - top, plotW = w - left - 6;
  let clipped = 0;
  g.fillStyle = css('--dim'); g.strokeStyle = '#24303c';
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4, text = String(step * i);
    g.beginPath(); g.moveTo(left, y); g.lineTo(w - 6, y); g.stroke();
    const x = left - 6 - g.measureText(text).width;
    if (x < 0) clipped++;
    g.fillText(text, x, y + 4);
  }
  const group = plotW / Math.max(1, labels.length), barW = Math.max(1, (group * 0.8) / series.length);
  labels.forEach((text, i) => {
    series.forEach((s, k) => {
      const v = s.values[i] || 0, bh = (plotH * v) / max, x = left + i * group + group * 0.1 + k * barW;
      g.fillStyle = s.color;
      g.fillRect(x, top + plotH - bh, barW - 1, bh);
      if (s.annotate && v > 0) {
        const note = s.annotate(i), nw = g.measureText(note).width;
        g.fillStyle = css('--text');
        g.fillText(note, Math.min(Math.max(0, x + 2), w - nw), Math.max(11, top + plotH - bh - 3));
      }
    });
    if (marks && marks.values[i] > 0) {
      const y = top + plotH - (plotH * marks.values[i]) / max;
      g.strokeStyle = marks.color; g.lineWidth = 2;
      g.beginPath(); g.moveTo(left + i * group + group * 0.05, y); g.lineTo(left + (i + 1) * group - group * 0.05, y);
      g.stroke(); g.lineWidth = 1;
    }
  });
  // x labels from the right, so that the last ("now", the largest) is always there; a label that
  // would overlap the one after it is skipped.
  let nextLeft = Infinity;
  for (let i = labels.length - 1; i >= 0; i--) {
    const text = labels[i], tw = g.measureText(text).width, x = Math.min(left + i * group + 2, w - tw - 1);
    if (x + tw + 6 < nextLeft && x >= 0) {
      g.fillStyle = css('--dim');
      g.fillText(text, x, h - 6);
      if (x + tw > w) clipped++;
      nextLeft = x;
    }
  }
  canvas.dataset.clipped = String(clipped);
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
}

// Rows into a table body, or the empty-state line when there are none.
function table(bodyId, emptyId, rows) {
  $(bodyId).replaceChildren(...rows);
  $(bodyId).closest('table').hidden = rows.length === 0;
  $(emptyId).hidden = rows.length > 0;
}

function render(d) {
  $('wallet').textContent = 'wallet ' + d.wallet;
  const s = d.stored;
  const workers = d.workers.filter((x) => !x.urgent);
  $('workers').textContent = workers.length;
  $('workers-busy').textContent = d.workers_busy + ' busy';
  $('ready-precomputes').textContent = d.ready_precomputes;
  const bal = s && s.on_chain ? s.balance : null;
  $('on-chain').textContent = bal ? dollars(bal.on_chain_cents) : '-';
  $('ready-value').textContent = dollars(bal ? bal.ready_cents : d.ready_cents);
  $('pending').textContent = bal ? dollars(bal.pending_cents) : '-';
  $('reserved').textContent = bal ? dollars(bal.reserved_cents) : '-';
  if (s && s.on_chain) {
    $('synced-block').textContent = s.sync.block;
    $('synced-age').textContent = s.sync.synced_at_ms ? 'synced ' + ago(s.sync.synced_at_ms) : 'never synced';
    $('node').textContent = s.node.ok ? 'ok' : 'down';
    $('node').className = 'v word ' + (s.node.ok ? 'good' : 'bad');
    $('node-detail').textContent = s.node.ok ? 'head ' + s.node.head + ' (' + plural(Math.max(0, s.node.head - s.sync.block), 'block') + ' ahead)' : s.node.error;
  } else {
    $('synced-block').textContent = '-';
    $('synced-age').textContent = 'no chain: a local tree';
    $('node').textContent = '-';
    $('node-detail').textContent = '';
  }
  const k = s ? s.keeper : null;
  $('keeper').textContent = k ? k.state : 'never ran';
  $('keeper').className = 'v word ' + (k && k.state === 'running' ? 'good' : k && k.state === 'stale' ? 'bad' : '');
  $('keeper-detail').textContent = !k ? 'bucketpay keeper refills the inventory'
    : k.state === 'stopped' ? 'stopped ' + ago(k.stopped_ms) + ' after ' + plural(k.rounds, 'round')
    : k.last_round_ms ? 'last round ' + ago(k.last_round_ms) + ': ' + plural(k.splits, 'split') + ', ' + plural(k.proofs, 'proof')
    : 'started ' + ago(k.started_ms);
  // Proofs: every process's jobs in the store when the server has the whole store.
  const pj = s ? s.proof_jobs : null;
  $('proofs-ok').textContent = pj ? pj.done : d.proofs_ok;
  $('proofs-failed').textContent = pj ? pj.failed : d.proofs_failed;
  $('proofs-failed').className = 'v' + ((pj ? pj.failed : d.proofs_failed) > 0 ? ' bad' : '');
  $('queue-depth').textContent = pj ? pj.pending + pj.running : d.queue_depth;

  // The inventory: the policy's denominations (with targets) on a chain, else the notes' values.
  const inv = s && s.on_chain ? s.denominations.filter((r) => r.target > 0 || r.notes > 0)
    : d.inventory.filter((r) => r.notes > 0).map((r) => ({ ...r, target: 0, short: 0 }));
  if (inv.length === 0) {
    emptyChart($('inventory-chart'), 'No notes yet.');
  } else {
    bars($('inventory-chart'), inv.map((r) => label(r.value_cents)),
         [{ values: inv.map((r) => r.notes), color: css('--notes') },
          { values: inv.map((r) => r.ready), color: css('--ready') }],
         { values: inv.map((r) => r.target), color: css('--bad') });
  }
  const noNotes = inv.every((r) => r.notes === 0);
  table('denominations', 'denominations-empty', inv.map((r) => {
    const tr = document.createElement('tr');
    cell(tr, dollars(r.value_cents)); cell(tr, r.target || '-', 'num'); cell(tr, r.notes, 'num');
    cell(tr, r.ready, 'num'); cell(tr, r.short > 0 ? 'short ' + r.short : '', r.short > 0 ? 'num short' : 'num');
    return tr;
  }));
  // The policy's targets stay listed (with what is short) while there are no notes yet.
  $('denominations-empty').hidden = !noNotes;
  $('denominations-empty').textContent = 'No notes yet' + (s && s.on_chain ? ': `bucketpay deposit AMOUNT` makes some.' : '.');

  const payments = s ? s.payments : [];
  table('payments', 'payments-empty', payments.map((p) => {
    const tr = document.createElement('tr');
    cell(tr, time(p.created_ms)); cell(tr, '#' + p.id); cell(tr, p.kind); cell(tr, dollars(p.amount_cents), 'num');
    cell(tr, p.state, 'state-' + p.state); cell(tr, p.latency_ms > 0 ? latency(p.latency_ms) : '-', 'num');
    return tr;
  }));
  const batches = s ? s.job_batches : d.jobs.map((j) => ({ batch: j.job, done: j.proved + j.cached, failed: j.failed,
    pending: j.total - j.done, running: 0, updated_ms: j.finished_ms || j.started_ms || j.created_ms }));
  table('jobs', 'jobs-empty', batches.map((b) => {
    const tr = document.createElement('tr');
    cell(tr, time(b.updated_ms)); cell(tr, b.batch); cell(tr, b.done, 'num'); cell(tr, b.failed, 'num');
    cell(tr, b.pending + b.running, 'num');
    return tr;
  }));

  const empty = inv.every((r) => r.notes === 0) && payments.length === 0
    && (!s || !s.on_chain || s.balance.on_chain_cents + s.balance.pending_cents + s.balance.reserved_cents === 0);
  $('empty-wallet').hidden = !empty;
  $('empty-wallet').textContent = empty ? 'This wallet is empty: no notes and no payments yet.'
    + (s && s.on_chain ? ' Deposit with `bucketpay deposit AMOUNT`, then `bucketpay inventory` proves its notes.'
                       : ' `bucketpay note add` adds notes to the local tree.') : '';

  const t = d.throughput.proofs, step = d.throughput.bucket_seconds;
  if (t.every((v) => v === 0)) {
    emptyChart($('throughput-chart'), 'No proofs by this server in the last 5 minutes.');
  } else {
    bars($('throughput-chart'), t.map((_, i) => (i === t.length - 1 ? 'now' : '-' + (t.length - 1 - i) * step + 's')),
         [{ values: t, color: css('--ok') }]);
  }
  if (d.workers.every((x) => x.proofs === 0)) {
    emptyChart($('workers-chart'), 'No proofs by this server\'s workers yet.');
  } else {
    bars($('workers-chart'), d.workers.map((x) => (x.urgent ? 'urgent' : 'worker ' + x.worker)),
         [{ values: d.workers.map((x) => x.proofs), color: css('--ready'),
            annotate: (i) => (d.workers[i].mean_ms / 1000).toFixed(2) + ' s/proof' }]);
  }
}

// The token form again, with why; the figures of the previous token are hidden.
function ask(message) {
  generation++;
  clearInterval(timer); timer = null;
  token = ''; drop();
  $('main').hidden = true; $('forget').hidden = true; $('wallet').textContent = '';
  $('login').hidden = false;
  $('login-message').textContent = message; $('login-message').hidden = !message;
  $('status').textContent = 'no token'; $('status').className = '';
  $('token-input').value = ''; $('token-input').focus();
}

async function poll() {
  const mine = generation;
  try {
    const res = await fetch('/v1/dashboard', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
    const body = await res.json();
    if (mine !== generation) return;
    if (res.status === 401) {
      ask('That token was refused (' + (body.error || 'HTTP 401') + '): it is wrong or was revoked. Enter another.');
      return;
    }
    if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
    render(body);
    $('status').textContent = 'updated ' + new Date().toLocaleTimeString();
    $('status').className = '';
  } catch (e) {
    if (mine !== generation) return;
    $('status').textContent = 'error: ' + e.message;
    $('status').className = 'bad';
  }
}

function start() {
  generation++;
  $('login').hidden = true; $('login-message').hidden = true;
  $('main').hidden = false; $('forget').hidden = false;
  $('status').textContent = 'connecting'; $('status').className = '';
  poll();
  clearInterval(timer);
  timer = setInterval(poll, 2000);
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const entered = $('token-input').value.trim();
  $('token-input').value = '';
  if (!entered) { ask('Enter a token.'); return; }
  token = entered;
  keep(token);
  start();
});
$('forget').addEventListener('click', () => ask('Token forgotten: this tab no longer holds it.'));
if (token) start(); else ask('');
</script>
</body>
</html>
)html";

}  // namespace

std::string_view dashboard_page() { return kPage; }

}  // namespace bucketpay::service
