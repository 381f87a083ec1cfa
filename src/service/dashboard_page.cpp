#include "service/dashboard_page.h"

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
  input { width:min(640px, 90%); padding:8px; font:inherit; background:#0b0f13; color:var(--text);
          border:1px solid #2c3a47; border-radius:6px; }
  button { padding:8px 14px; font:inherit; border-radius:6px; border:0; background:var(--ready); color:#fff; }
</style>
</head>
<body>
<header><h1>bucketpay</h1><span id="wallet"></span><span id="status">connecting</span></header>
<form id="login" hidden>
  <p>Paste an API token (<code>bucketpay token create --wallet NAME</code>).
     It stays in this page's URL fragment, which is never sent to the server.</p>
  <input id="token-input" autocomplete="off" placeholder="bpt_..."> <button>Open</button>
</form>
<main id="main" hidden>
  <div class="tiles">
    <div class="tile"><div class="v" id="workers">-</div><div class="k">workers</div></div>
    <div class="tile"><div class="v" id="workers-busy">-</div><div class="k">busy</div></div>
    <div class="tile"><div class="v" id="queue-depth">-</div><div class="k">jobs queued</div></div>
    <div class="tile"><div class="v" id="ready-precomputes">-</div><div class="k">ready precomputes</div></div>
    <div class="tile"><div class="v" id="ready-value">-</div><div class="k">ready value</div></div>
    <div class="tile"><div class="v" id="proofs-ok">-</div><div class="k">proofs made</div></div>
    <div class="tile"><div class="v" id="proofs-failed">-</div><div class="k">proofs failed</div></div>
  </div>
  <section><h2>Inventory per denomination (notes on chain / with a ready proof)</h2>
    <canvas id="inventory-chart"></canvas>
    <div class="legend"><span><i style="background:var(--notes)"></i>notes</span>
      <span><i style="background:var(--ready)"></i>ready</span></div></section>
  <section><h2>Proof throughput (proofs per 10 s, last 5 minutes)</h2><canvas id="throughput-chart"></canvas></section>
  <section><h2>Workers (proofs made; mean time per proof above each bar)</h2><canvas id="workers-chart"></canvas></section>
  <section><h2>Recent jobs</h2>
    <table><thead><tr><th>job</th><th>mode</th><th>state</th><th>progress</th><th>proved</th><th>cached</th>
      <th>failed</th></tr></thead><tbody id="jobs"></tbody></table></section>
</main>
<script>
'use strict';
const $ = (id) => document.getElementById(id);
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
let token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
let timer = null;

function dollars(cents) { return '$' + (cents / 100).toFixed(2); }
function label(cents) { return cents >= 100 ? '$' + (cents / 100) : cents + 'c'; }

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

// Grouped bars: labels on x, one bar per series in each group, a y axis from 0 with whole-number
// ticks. A series may annotate its bars (text above each).
function bars(canvas, labels, series) {
  const { g, w, h } = surface(canvas);
  const left = 36, bottom = 22, top = 14, plotH = h - bottom - top, plotW = w - left - 6;
  const step = Math.max(1, Math.ceil(Math.max(1, ...series.flatMap((s) => s.values)) / 4));
  const max = step * 4;
  g.fillStyle = css('--dim'); g.strokeStyle = '#24303c';
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    g.beginPath(); g.moveTo(left, y); g.lineTo(w - 6, y); g.stroke();
    g.fillText(String(step * i), 2, y + 4);
  }
  const group = plotW / Math.max(1, labels.length), barW = Math.max(1, (group * 0.8) / series.length);
  let lastRight = -Infinity;
  labels.forEach((text, i) => {
    series.forEach((s, k) => {
      const v = s.values[i] || 0, bh = (plotH * v) / max, x = left + i * group + group * 0.1 + k * barW;
      g.fillStyle = s.color;
      g.fillRect(x, top + plotH - bh, barW - 1, bh);
      if (s.annotate && v > 0) {
        g.fillStyle = css('--text');
        g.fillText(s.annotate(i), x + 2, top + plotH - bh - 3);
      }
    });
    const x = left + i * group + 2, tw = g.measureText(text).width;
    if (x > lastRight + 6) {  // skip labels that would overlap the previous one
      g.fillStyle = css('--dim');
      g.fillText(text, x, h - 6);
      lastRight = x + tw;
    }
  });
}

function render(d) {
  $('wallet').textContent = 'wallet ' + d.wallet;
  const workers = d.workers.filter((x) => !x.urgent);
  $('workers').textContent = workers.length;
  $('workers-busy').textContent = d.workers_busy;
  $('queue-depth').textContent = d.queue_depth;
  $('ready-precomputes').textContent = d.ready_precomputes;
  $('ready-value').textContent = dollars(d.ready_cents);
  $('proofs-ok').textContent = d.proofs_ok;
  $('proofs-failed').textContent = d.proofs_failed;
  const inv = d.inventory;
  bars($('inventory-chart'), inv.map((r) => label(r.value_cents)),
       [{ values: inv.map((r) => r.notes), color: css('--notes') },
        { values: inv.map((r) => r.ready), color: css('--ready') }]);
  const t = d.throughput.proofs, step = d.throughput.bucket_seconds;
  bars($('throughput-chart'), t.map((_, i) => (i === t.length - 1 ? 'now' : '-' + (t.length - 1 - i) * step + 's')),
       [{ values: t, color: css('--ok') }]);
  bars($('workers-chart'), d.workers.map((x) => (x.urgent ? 'urgent' : 'worker ' + x.worker)),
       [{ values: d.workers.map((x) => x.proofs), color: css('--ready'),
          annotate: (i) => (d.workers[i].mean_ms / 1000).toFixed(2) + ' s/proof' }]);
  const rows = d.jobs.map((j) => {
    const tr = document.createElement('tr');
    for (const v of [j.job, j.mode, j.state, j.done + ' / ' + j.total, j.proved, j.cached, j.failed]) {
      const td = document.createElement('td'); td.textContent = v; tr.appendChild(td);
    }
    return tr;
  });
  $('jobs').replaceChildren(...rows);
}

async function poll() {
  try {
    const res = await fetch('/v1/dashboard', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
    render(body);
    $('status').textContent = 'updated ' + new Date().toLocaleTimeString();
    $('status').className = '';
  } catch (e) {
    $('status').textContent = 'error: ' + e.message;
    $('status').className = 'bad';
  }
}

function start() {
  $('login').hidden = true; $('main').hidden = false;
  poll();
  clearInterval(timer);
  timer = setInterval(poll, 2000);
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token-input').value.trim();
  history.replaceState(null, '', '#token=' + encodeURIComponent(token));
  start();
});
if (token) start(); else { $('login').hidden = false; $('status').textContent = 'no token'; }
</script>
</body>
</html>
)html";

}  // namespace

std::string_view dashboard_page() { return kPage; }

}  // namespace bucketpay::service
