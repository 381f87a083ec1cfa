// Browser test of the dashboard (GET /): a real `bucketpay serve` on a throwaway store, Debian's
// chromium driven by playwright-core. It loads the page with a token in the URL fragment, waits for
// live figures (the worker count, then the ready-precompute count changing after a job), checks the
// charts were drawn and that the console stayed free of errors, and saves build/dashboard.png.
//
// Environment: BUCKETPAY_BIN (default build/bin/bucketpay-fastkdf, the CLI built for tests),
// BUCKETPAY_BUILD_DIR (default build; the screenshot goes there), BUCKETPAY_CRS (default ../shared/crs), CHROMIUM (default /usr/bin/chromium).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = process.env.BUCKETPAY_BUILD_DIR || join(root, 'build');
const bin = process.env.BUCKETPAY_BIN || join(buildDir, 'bin', 'bucketpay-fastkdf');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshot = join(buildDir, 'dashboard.png');
const deadline = Date.now() + 240_000;

const work = mkdtempSync(join(tmpdir(), 'bucketpay-dashboard-'));
const db = join(work, 'wallet.db');
const env = {
  ...process.env,
  BUCKETPAY_PASSPHRASE: 'dashboard test',
  BUCKETPAY_KDF: 'fast',
  BUCKETPAY_CRS: process.env.BUCKETPAY_CRS || resolve(root, '..', 'shared', 'crs'),
};
const cli = (...args) => execFileSync(bin, [...args, '--db', db, '--wallet', 'alice'], { env, encoding: 'utf8' });

let server;
let context;
let failed = false;
try {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing (apt-get install chromium)`);
  cli('init');
  cli('note', 'add', '--value', '0.01', '--count', '2');
  cli('note', 'add', '--value', '0.64');
  const token = cli('token', 'create').trim();

  server = spawn(bin, ['serve', '--db', db, '--wallet', 'alice', '--port', '0', '--workers', '1', '--threads', '1'],
                 { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverErr = '';
  server.stderr.on('data', (d) => { serverErr += d; });
  const base = await new Promise((ok, fail) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[\d.]+:\d+)/);
      if (m) ok(m[1]);
    });
    server.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${serverErr}`)));
    setTimeout(() => fail(new Error('serve did not start in 120 s')), 120_000);
  });
  console.log(`dashboard_test: service at ${base}`);

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
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  // Nothing may be fetched from anywhere but the service.
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`external: ${r.url()}`); });

  await page.goto(`${base}/#token=${token}`);
  const text = (id) => page.locator(`#${id}`).innerText();
  const waitFor = async (what, check) => {
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await page.waitForTimeout(250);
    }
  };
  await waitFor('the worker count', async () => (await text('workers')) === '1');
  await waitFor('the inventory', async () => (await text('ready-precomputes')) === '0');
  if ((await text('wallet')) !== 'wallet alice') throw new Error(`wallet shows "${await text('wallet')}"`);

  const res = await fetch(`${base}/v1/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ mode: 'inventory', all: true }),
  });
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${await res.text()}`);
  const { job } = await res.json();
  console.log(`dashboard_test: ${job} queued`);
  await waitFor('3 ready precomputes', async () => (await text('ready-precomputes')) === '3');
  await waitFor('3 proofs made', async () => (await text('proofs-ok')) === '3');
  await waitFor('the job row', async () => (await page.locator('#jobs tr').count()) === 1
    && (await page.locator('#jobs tr td').nth(2).innerText()) === 'done');
  if ((await text('ready-value')) !== '$0.66') throw new Error(`ready value "${await text('ready-value')}"`);

  // Every chart has drawn bars (pixels in the series' colours, not only axes).
  for (const id of ['inventory-chart', 'throughput-chart', 'workers-chart']) {
    const painted = await page.evaluate((cid) => {
      const c = document.getElementById(cid);
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] > 60 || px[i + 1] > 120 || px[i + 2] > 120)) n++;
      return n;
    }, id);
    if (painted < 50) throw new Error(`${id} looks empty (${painted} painted pixels)`);
  }
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`dashboard_test: screenshot ${screenshot}`);
  if (problems.length > 0) throw new Error(`browser problems:\n  ${problems.join('\n  ')}`);
  console.log('dashboard_test: 1 passed, 0 failed');
} catch (e) {
  failed = true;
  console.error(`dashboard_test: FAILED: ${e.stack || e}`);
  console.log('dashboard_test: 0 passed, 1 failed');
} finally {
  if (context) await context.close().catch(() => {});
  if (server && server.exitCode === null) {
    const exited = new Promise((ok) => server.once('exit', (code, signal) => ok(code ?? signal)));
    server.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok('timeout'), 30_000))]);
    if (code !== 0) {
      console.error(`dashboard_test: serve did not stop cleanly on SIGTERM (${code})`);
      if (code === 'timeout') server.kill('SIGKILL');
      failed = true;
    }
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
