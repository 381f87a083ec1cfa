// Browser test of the dashboard (GET /): a real `bucketpay serve` over a wallet on a real anvil
// chain, Debian's chromium driven by playwright-core. It loads the page with a read token in the URL
// fragment and checks:
//   0. the token left the URL at once (location.hash is '', the history entry replaced) and is in
//      the tab's sessionStorage (not localStorage); a reload still works; the read token cannot
//      POST /v1/jobs (403 naming scope spend);
//   1. a new wallet: the empty state says so (banner, "No payments yet.", "No proof jobs yet.",
//      "No notes yet"), the node is ok, the keeper never ran, nothing made;
//   1b. in another tab: an unknown token from a link shows the form saying it was refused; a valid
//      token entered there shows the data without a reload; "Forget token" empties the tab; a token
//      revoked (`bucketpay token revoke`) while the page polls brings the form back;
//   2. after the CLI (other processes than the server) deposited, proved the inventory, paid through
//      a relayer and ran a keeper round: every figure equals what the CLI reads from the store and
//      the chain (`balance --json`, `history --json`, `inventory status --json`, `precompute status
//      --json`, the node's head) — proofs made by the CLI included, which this server did not make;
//   3. then a proof job of the server's own (POST /v1/jobs): its charts are drawn;
//   4. layout: no table wider than its panel, no page wider than the window (also at 760 px), no axis
//      label outside its canvas; no console errors; nothing fetched from elsewhere.
// Screenshots: build/dashboard-empty.png, build/dashboard-token-refused.png (the form after a revoked
// token), build/dashboard.png (after the CLI's work),
// build/dashboard-server-job.png, build/dashboard-narrow.png.
//
// Environment: BUCKETPAY_BIN (default build/bin/bucketpay-fastkdf, the CLI built for tests;
// bucketpay-devnet beside it), BUCKETPAY_BUILD_DIR (default build; the screenshots go there),
// BUCKETPAY_CRS (default ../shared/crs), CHROMIUM (default /usr/bin/chromium).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = process.env.BUCKETPAY_BUILD_DIR || join(root, 'build');
const bin = process.env.BUCKETPAY_BIN || join(buildDir, 'bin', 'bucketpay-fastkdf');
const devnet = join(dirname(bin), 'bucketpay-devnet');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const shot = (name) => join(buildDir, name);
const deadline = Date.now() + 540_000;
// Anvil's account 0: a public test key.
const deployerKey = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

const work = mkdtempSync(join(tmpdir(), 'bucketpay-dashboard-'));
const chainDir = join(work, 'chain');
const db = join(work, 'wallet.db');
const contracts = join(work, 'contracts.json');
const env = {
  ...process.env,
  BUCKETPAY_PASSPHRASE: 'dashboard test passphrase',
  BUCKETPAY_KDF: 'fast',
  BUCKETPAY_CRS: process.env.BUCKETPAY_CRS || resolve(root, '..', 'shared', 'crs'),
};
delete env.BUCKETPAY_DB;
const run = (...args) => execFileSync(bin, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const cli = (...args) => run(...args, '--db', db, '--wallet', 'alice');
const cliJson = (...args) => JSON.parse(cli(...args, '--json'));
const dollars = (cents) => '$' + (cents / 100).toFixed(2);
const latency = (ms) => (ms >= 1000 ? (ms / 1000).toFixed(1) + ' s' : ms.toFixed(0) + ' ms');

// A long-running child whose stdout names its URL.
function startServer(args, pattern, what) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const url = new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(pattern);
      if (m) ok(m[1]);
    });
    child.on('exit', (code) => fail(new Error(`${what} exited with ${code}: ${err}`)));
    setTimeout(() => fail(new Error(`${what} did not start in 120 s`)), 120_000);
  });
  return { child, url };
}

async function stop(child, what) {
  if (!child || child.exitCode !== null) return true;
  const exited = new Promise((ok) => child.once('exit', (code, signal) => ok(code ?? signal)));
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok('timeout'), 30_000))]);
  if (code === 'timeout') child.kill('SIGKILL');
  if (code !== 0) console.error(`dashboard_test: ${what} did not stop cleanly on SIGTERM (${code})`);
  return code === 0;
}

let server;
let relay;
let context;
let anvilStarted = false;
let failed = false;
try {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing (apt-get install chromium)`);
  if (!existsSync(devnet)) throw new Error(`${devnet} is missing (cmake --build build --target bucketpay-devnet)`);
  const rpc = execFileSync(join(root, 'scripts', 'anvil.sh'), ['start', chainDir], { encoding: 'utf8' }).trim();
  anvilStarted = true;
  env.ETH_RPC_URL = rpc;
  execFileSync(bin, ['deploy', '--test-token', '--out', contracts],
               { env: { ...env, BUCKETPAY_DEPLOYER_KEY: deployerKey }, encoding: 'utf8' });
  // The relayer first: the wallet names it.
  const relayInit = JSON.parse(run('relay', 'init', '--db', join(work, 'relay.db'), '--rpc-url', rpc, '--pool',
                                   JSON.parse(readFileSync(contracts, 'utf8')).pool, '--eth-price', '3', '--json'));
  execFileSync(devnet, ['fund', '--rpc', rpc, '--contracts', contracts, '--to', relayInit.account, '--eth', '1']);
  const relayed = startServer(['relay', 'serve', '--db', join(work, 'relay.db'), '--port', '0', '--quiet'],
                              /(http:\/\/[\d.]+:\d+)/, 'relay serve');
  relay = relayed.child;
  const relayUrl = await relayed.url;
  cli('init', '--contracts', contracts, '--relayer', relayUrl);
  const account = cliJson('key', 'show').account;
  execFileSync(devnet, ['fund', '--rpc', rpc, '--contracts', contracts, '--to', account, '--eth', '1', '--tokens', '500']);
  // The page needs only a read token (the default); the server's own job below needs spend.
  const token = cli('token', 'create').trim();
  const spendToken = cli('token', 'create', '--scope', 'spend').trim();

  const served = startServer(['serve', '--db', db, '--wallet', 'alice', '--port', '0', '--workers', '1', '--threads', '1'],
                             /listening on (http:\/\/[\d.]+:\d+)/, 'serve');
  server = served.child;
  const base = await served.url;
  console.log(`dashboard_test: service at ${base}, chain at ${rpc}`);

  context = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  let reloading = false;  // a poll in flight when the page reloads is cancelled, as it should be
  page.on('requestfailed', (r) => { if (!reloading) problems.push(`request failed: ${r.url()}`); });
  // Nothing may be fetched from anywhere but the service.
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`external: ${r.url()}`); });

  await page.goto(`${base}/#token=${token}`);
  const text = (selector, on = page) => on.locator(selector.startsWith('#') ? selector : `#${selector}`).innerText();
  const visible = (id, on = page) => on.locator(`#${id}`).isVisible();
  let last = '';
  // Each wait: at most 90 s (the page polls every 2 s), and within the whole test's deadline.
  const waitFor = async (what, check, on = page) => {
    const until = Math.min(deadline, Date.now() + 90_000);
    for (;;) {
      const r = await check();
      if (r === true) return;
      last = typeof r === 'string' ? r : '';
      if (Date.now() > until) {
        throw new Error(`timed out waiting for ${what}${last ? ': ' + last : ''} (page status: ${await text('status', on)})`);
      }
      await on.waitForTimeout(250);
    }
  };

  // 0. The token is out of the URL and its history entry at once, kept in this tab's sessionStorage.
  const where = (on) => on.evaluate((key) => ({
    href: location.href, hash: location.hash, historyLength: history.length,
    session: sessionStorage.getItem(key), local: localStorage.length,
  }), 'bucketpay-token');
  let at = await where(page);
  if (at.hash !== '' || at.href.includes(token) || at.href.includes('token=')) {
    throw new Error(`the token is still in the URL: ${at.href}`);
  }
  if (at.href !== `${base}/`) throw new Error(`the page is at ${at.href}, not ${base}/`);
  if (at.session !== token) throw new Error('the token is not in the tab\'s sessionStorage');
  if (at.local !== 0) throw new Error(`localStorage holds ${at.local} items`);
  await waitFor('the first answer', async () => (await text('wallet')) === 'wallet alice');
  reloading = true;
  await page.reload();
  reloading = false;
  at = await where(page);
  if (at.hash !== '' || at.session !== token) throw new Error(`after a reload: ${JSON.stringify(at)}`);
  await waitFor('the answer after a reload', async () => (await text('wallet')) === 'wallet alice'
    && (await text('status')).startsWith('updated'));
  // A read token proves nothing.
  const denied = await fetch(`${base}/v1/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ mode: 'inventory', all: true }),
  });
  const deniedBody = await denied.json();
  if (denied.status !== 403 || !deniedBody.error.includes('scope spend')) {
    throw new Error(`a read token's POST /v1/jobs: ${denied.status} ${JSON.stringify(deniedBody)}`);
  }
  const expectText = async (id, want) => {
    const got = await text(id);
    if (got !== want) throw new Error(`#${id} shows "${got}", not "${want}"`);
  };
  // Layout: no table or tile wider than its box, no page wider than the window, no clipped label.
  const checkLayout = async (where) => {
    const bad = await page.evaluate(() => {
      const out = [];
      if (document.documentElement.scrollWidth > window.innerWidth) {
        out.push(`page ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`);
      }
      for (const el of document.querySelectorAll('.scroll, .tile, section')) {
        if (el.scrollWidth > el.clientWidth + 1) out.push(`${el.className || el.tagName} overflows (${el.scrollWidth} > ${el.clientWidth}): ${el.innerText.slice(0, 40)}`);
      }
      for (const c of document.querySelectorAll('canvas')) {
        if (c.dataset.clipped !== '0') out.push(`${c.id}: ${c.dataset.clipped} labels outside the canvas`);
      }
      return out;
    });
    if (bad.length > 0) throw new Error(`layout (${where}):\n  ${bad.join('\n  ')}`);
  };

  // 1. A new wallet on a chain: empty, and it says so.
  await waitFor('the empty state', async () => (await visible('empty-wallet'))
    && (await text('empty-wallet')).includes('This wallet is empty'));
  await waitFor('the node', async () => (await text('node')) === 'ok' || `node "${await text('node')}"`);
  for (const id of ['payments-empty', 'jobs-empty', 'denominations-empty']) {
    if (!(await visible(id))) throw new Error(`#${id} is not shown on an empty wallet`);
  }
  await expectText('payments-empty', 'No payments yet.');
  await expectText('jobs-empty', 'No proof jobs yet.');
  await expectText('on-chain', '$0.00');
  await expectText('proofs-ok', '0');
  await expectText('keeper', 'never ran');
  await expectText('wallet', 'wallet alice');
  await checkLayout('empty');
  await page.screenshot({ path: shot('dashboard-empty.png'), fullPage: true });

  // 1b. Another tab: a refused token shows the form saying so; another token entered there works
  // without a reload; "Forget token" empties the tab; a token revoked while polling brings the form
  // back. (This tab's console shows the 401s as failed loads: expected, so not watched.)
  const tab = await context.newPage();
  const tabErrors = [];
  tab.on('pageerror', (e) => tabErrors.push(`page error: ${e.message}`));
  await tab.goto(`${base}/#token=bpt_0123456789abcdef_${'0'.repeat(64)}`);
  const formSays = async (what, want) => waitFor(what, async () => (await visible('login', tab))
    && (await visible('login-message', tab)) && (await text('login-message', tab)).includes(want)
    && !(await visible('main', tab)) || `form ${await visible('login', tab)}, "${await text('login-message', tab)}"`, tab);
  await formSays('the form after an unknown token', 'That token was refused (invalid token)');
  at = await where(tab);
  if (at.hash !== '' || at.href.includes('token')) throw new Error(`the refused token is still in the URL: ${at.href}`);
  if (at.session !== null) throw new Error('a refused token is still kept');
  await tab.evaluate(() => { window.sameDocument = true; });
  const enter = async (t) => { await tab.locator('#token-input').fill(t); await tab.locator('#token-input').press('Enter'); };
  await enter(token);
  await waitFor('the data after entering a token', async () => (await visible('main', tab))
    && (await text('wallet', tab)) === 'wallet alice' && (await text('on-chain', tab)) === '$0.00'
    && (await text('status', tab)).startsWith('updated') || `status "${await text('status', tab)}"`, tab);
  if (!(await tab.evaluate(() => window.sameDocument === true))) throw new Error('entering a token reloaded the page');
  if ((await where(tab)).session !== token || (await where(tab)).hash !== '') throw new Error('the entered token is not kept right');
  if (await visible('login-message', tab)) throw new Error('the refusal is still shown');
  await tab.locator('#forget').click();
  await formSays('the form after forgetting', 'Token forgotten');
  if ((await where(tab)).session !== null) throw new Error('the token is still kept after "Forget token"');
  const revocable = JSON.parse(cli('token', 'create', '--json'));
  await enter(revocable.token);
  await waitFor('the data with a second token', async () => (await text('wallet', tab)) === 'wallet alice'
    && (await text('status', tab)).startsWith('updated'), tab);
  run('token', 'revoke', revocable.id, '--db', db);
  await formSays('the form after the token was revoked', 'it is wrong or was revoked');
  if ((await where(tab)).session !== null) throw new Error('a revoked token is still kept');
  if (tabErrors.length > 0) throw new Error(`browser problems in the second tab:\n  ${tabErrors.join('\n  ')}`);
  await tab.screenshot({ path: shot('dashboard-token-refused.png') });
  await tab.close();

  // 2. Other processes work: the CLI deposits, proves, pays through a relayer, and a keeper runs.
  cli('deposit', '1.00');
  cli('inventory');
  const paid = cliJson('pay', '0.25', '--to', '0x000000000000000000000000000000000000dEaD');
  if (paid.state !== 'confirmed') throw new Error(`the payment is ${paid.state}: ${paid.error}`);
  cli('keeper', '--once');
  // What the store and the chain say now.
  const balance = cliJson('balance');
  const history = cliJson('history');
  const inventory = cliJson('inventory', 'status');
  const jobs = cliJson('precompute', 'status').jobs;
  const head = Number(JSON.parse(execFileSync('curl', ['-s', '-X', 'POST', '-H', 'Content-Type: application/json', '--data',
    '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}', rpc], { encoding: 'utf8' })).result);
  console.log(`dashboard_test: CLI made ${jobs.done} proofs; balance ${dollars(balance.on_chain_cents)}, ` +
              `${history.length} journal entries, head ${head}`);
  if (jobs.done === 0) throw new Error('the CLI made no proofs');

  // Every figure as the store and the chain have it (one poll shows them all; the page polls every 2 s).
  const want = {
    'proofs-ok': String(jobs.done),
    'on-chain': dollars(balance.on_chain_cents),
    'ready-value': dollars(balance.ready_cents),
    pending: dollars(balance.pending_cents),
    reserved: dollars(balance.reserved_cents),
    'synced-block': String(balance.synced_block),
    'proofs-failed': String(jobs.failed),
    'queue-depth': String(jobs.pending + jobs.running),
    node: 'ok',
    keeper: 'stopped',
  };
  await waitFor('the figures of the store and the chain', async () => {
    const wrong = [];
    for (const [id, value] of Object.entries(want)) {
      const got = await text(id);
      if (got !== value) wrong.push(`#${id} "${got}" (want "${value}")`);
    }
    if (!(await text('node-detail')).startsWith(`head ${head} `)) wrong.push(`node "${await text('node-detail')}", head ${head}`);
    if (!(await text('keeper-detail')).endsWith('after 1 round')) wrong.push(`keeper "${await text('keeper-detail')}"`);
    if (await visible('empty-wallet')) wrong.push('the empty-wallet banner is still shown');
    return wrong.length === 0 || wrong.join('; ');
  });

  // Payments: newest first, each with its time, amount, state and latency as the journal has them.
  const rows = await page.locator('#payments tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.innerText)));
  const journal = [...history].sort((a, b) => b.id - a.id).slice(0, 10);
  if (rows.length !== journal.length) throw new Error(`${rows.length} payment rows, the journal has ${journal.length}`);
  journal.forEach((p, i) => {
    const [when, id, kind, amount, state, lat] = rows[i];
    const want = ['#' + p.id, p.kind, dollars(p.amount_cents), p.state, p.latency_ms > 0 ? latency(p.latency_ms) : '-'];
    if (JSON.stringify([id, kind, amount, state, lat]) !== JSON.stringify(want) || !/\d/.test(when)) {
      throw new Error(`payment row ${i}: ${JSON.stringify(rows[i])}, the journal: ${JSON.stringify(want)}`);
    }
  });
  if (!rows.some((r) => r[1] === '#' + paid.payment && r[4] === 'confirmed')) throw new Error('the payment is not shown confirmed');

  // Denominations against their targets, shortfalls flagged.
  const denoms = await page.locator('#denominations tr').evaluateAll((trs) => trs.map((tr) => ({
    cells: [...tr.children].map((td) => td.innerText), flagged: tr.children[4].classList.contains('short') })));
  const wantDenoms = inventory.denominations.filter((d) => d.target > 0 || d.notes > 0);
  if (denoms.length !== wantDenoms.length) throw new Error(`${denoms.length} denomination rows, want ${wantDenoms.length}`);
  let shortRows = 0;
  wantDenoms.forEach((d, i) => {
    const short = Math.max(0, d.target - d.ready);
    const want = [dollars(d.cents), d.target ? String(d.target) : '-', String(d.notes), String(d.ready), short > 0 ? `short ${short}` : ''];
    if (JSON.stringify(denoms[i].cells) !== JSON.stringify(want) || denoms[i].flagged !== (short > 0)) {
      throw new Error(`denomination row ${i}: ${JSON.stringify(denoms[i])}, want ${JSON.stringify(want)}`);
    }
    if (short > 0) shortRows++;
  });
  if (shortRows === 0) throw new Error('no shortfall to flag: the test wallet should be short of its targets');

  // Jobs: every process's batches with times; their counts add up to the store's.
  const batchRows = await page.locator('#jobs tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.innerText)));
  if (batchRows.length === 0) throw new Error('no job rows');
  const doneInRows = batchRows.reduce((n, r) => n + Number(r[2]), 0);
  if (batchRows.length < 10 && doneInRows !== jobs.done) throw new Error(`job rows count ${doneInRows} done, the store ${jobs.done}`);
  if (!batchRows.every((r) => /\d/.test(r[0]))) throw new Error(`a job row has no time: ${JSON.stringify(batchRows)}`);
  await checkLayout('after payments');
  await page.screenshot({ path: shot('dashboard.png'), fullPage: true });

  // 3. A job of the server's own (a split proof of a 2-cent note into 1 cent, which nothing made
  // yet): its throughput and workers charts are drawn.
  const note = cliJson('note', 'list').find((n) => n.state === 'on_chain' && n.value_cents === 2);
  if (!note) throw new Error('no 2-cent note to prove a split of');
  const res = await fetch(`${base}/v1/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${spendToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ mode: 'seed', note_id: note.id, buckets: [1] }),
  });
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${await res.text()}`);
  const { job } = await res.json();
  const waitJob = async () => {
    const r = await fetch(`${base}/v1/jobs/${job}`, { headers: { Authorization: `Bearer ${token}` } });
    return (await r.json()).state;
  };
  await waitFor('the server\'s job', async () => (await waitJob()) === 'done');
  const after = cliJson('precompute', 'status').jobs;
  await waitFor('every process\'s proofs', async () => (await text('proofs-ok')) === String(after.done)
    || `proofs made "${await text('proofs-ok')}", the store says ${after.done}`);
  const painted = (id) => page.evaluate((cid) => {
    const c = document.getElementById(cid);
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] > 60 || px[i + 1] > 120 || px[i + 2] > 120)) n++;
    return n;
  }, id);
  if ((await painted('inventory-chart')) < 50) throw new Error('inventory-chart looks empty');
  if (after.done !== jobs.done + 1) throw new Error(`the server's job made ${after.done - jobs.done} proofs, not 1`);
  for (const id of ['throughput-chart', 'workers-chart']) {
    if ((await painted(id)) < 50) throw new Error(`${id} looks empty after the server's proof`);
  }
  await page.screenshot({ path: shot('dashboard-server-job.png'), fullPage: true });
  await checkLayout('after the server\'s job');

  // 4. A narrow window: still nothing wider than it.
  await page.setViewportSize({ width: 760, height: 900 });
  await page.waitForTimeout(2500);  // the next poll redraws the charts at the new width
  await checkLayout('760 px');
  await page.screenshot({ path: shot('dashboard-narrow.png'), fullPage: true });
  console.log(`dashboard_test: screenshots ${shot('dashboard-empty.png')}, ${shot('dashboard.png')}, ${shot('dashboard-narrow.png')}`);
  if (problems.length > 0) throw new Error(`browser problems:\n  ${problems.join('\n  ')}`);
  console.log('dashboard_test: 1 passed, 0 failed');
} catch (e) {
  failed = true;
  console.error(`dashboard_test: FAILED: ${e.stack || e}`);
  if (e.stderr) console.error(String(e.stderr));
  console.log('dashboard_test: 0 passed, 1 failed');
} finally {
  if (context) await context.close().catch(() => {});
  if (!(await stop(server, 'serve'))) failed = true;
  if (!(await stop(relay, 'relay serve'))) failed = true;
  if (anvilStarted) {
    try { execFileSync(join(root, 'scripts', 'anvil.sh'), ['stop', chainDir]); } catch (e) { console.error(`anvil stop: ${e}`); }
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
