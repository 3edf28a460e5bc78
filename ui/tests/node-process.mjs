// Starts and stops a real `boothcloud-node` for the browser tests (with the demo
// manifest changed as a test needs, on a wall clock the test can step), and places
// orders through its public API exactly as a kiosk does.
//
// Every node started here holds the same booth CA (made once per test process with
// `boothcloud-node ca`, then given to each node's secret store, as a booth keeps its
// own), and this process's fetch trusts that CA and nothing else: the tests talk HTTPS
// to the node as an enrolled kiosk does. Browsers are told to accept the certificate
// (Playwright's ignoreHTTPSErrors), as they cannot be enrolled per run.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { Agent, setGlobalDispatcher } from 'undici';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const OPERATOR_TOKEN = 'browser-test-operator-token';
const ROOT = resolve(import.meta.dirname, '../..');

export function nodeBinary() {
  return process.env.BOOTHCLOUD_NODE_BIN ?? join(ROOT, 'target/debug/boothcloud-node');
}

export function freshDataDir() {
  return mkdtempSync(join(tmpdir(), 'boothcloud-ui-'));
}

let testCa = null;

/** The test CA: { pem, secret } (the secret file a node keeps it in). Made once. */
export function testCertificateAuthority(binary = nodeBinary()) {
  if (testCa) return testCa;
  const dir = freshDataDir();
  const pem = execFileSync(binary, ['ca', '--data-dir', dir, '--secrets', 'file'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  testCa = { pem, secret: join(dir, 'secrets', 'booth-ca') };
  // fetch() in this process: the test CA only.
  setGlobalDispatcher(new Agent({ connect: { ca: pem } }));
  return testCa;
}

/** Gives the node in `dataDir` the test CA (unless it already holds a CA). */
function seedCa(dataDir, binary) {
  const { secret } = testCertificateAuthority(binary);
  const target = join(dataDir, 'secrets', 'booth-ca');
  if (existsSync(target)) return;
  mkdirSync(join(dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  copyFileSync(secret, target);
}

/**
 * Starts a node; resolves with { url, plainUrl, stop } once it prints where it listens
 * (`url` is HTTPS; `plainUrl` the enrollment port). `env`: more environment for it (a
 * stepped clock's, say).
 */
export function startNode({ dataDir, listen = '127.0.0.1:0', manifest = null, binary = nodeBinary(), env = {} }) {
  seedCa(dataDir, binary);
  const args = ['serve', '--data-dir', dataDir, '--listen', listen, '--secrets', 'file', ...(manifest ? ['--manifest', manifest] : [])];
  const child = spawn(binary, args, {
    env: { ...process.env, BOOTHCLOUD_OPERATOR_TOKEN: OPERATOR_TOKEN, BOOTHCLOUD_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveStart, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node did not start in 30 s; said: ${out}`));
    }, 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`node could not be started (${binary}): ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before listening; said: ${out}`));
    });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (https:\/\/[^\s]+)\nenrollment on (http:\/\/[^\s]+)\n/);
      if (m) {
        clearTimeout(timer);
        resolveStart({
          url: m[1],
          plainUrl: m[2],
          /** The exit code once the process has ended by itself, else null. */
          exitCode: () => child.exitCode,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done(child.exitCode);
              child.once('exit', (code) => done(code));
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

/**
 * A wall clock for a node, `offsetS` seconds from the real one, that the test can step
 * (libfaketime, re-reading its file at most once a second; monotonic time is left alone,
 * as a real laptop's is when its clock is set).
 */
export function steppedClock(offsetS = 0) {
  const lib = [
    '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
    '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
    '/usr/lib/faketime/libfaketimeMT.so.1',
  ].find((p) => existsSync(p));
  if (!lib) throw new Error('libfaketime is not installed (Debian: apt install faketime; scripts/setup does)');
  const file = join(mkdtempSync(join(tmpdir(), 'boothcloud-faketime-')), 'offset');
  /** From now on the node's wall clock reads `s` seconds from the real one. */
  const stepTo = (s) => {
    // Written aside and renamed: libfaketime never reads half a file.
    writeFileSync(`${file}.new`, `${s >= 0 ? '+' : ''}${s}\n`);
    renameSync(`${file}.new`, file);
  };
  stepTo(offsetS);
  return {
    stepTo,
    env: { LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_CACHE_DURATION: '1', DONT_FAKE_MONOTONIC: '1' },
  };
}

/**
 * The demo manifest (`boothcloud-node manifest example`) changed by `edit` (text → text),
 * written into a fresh folder; answers its path.
 */
export async function exampleManifest(edit = (text) => text) {
  const { stdout } = await promisify(execFile)(nodeBinary(), ['manifest', 'example']);
  const path = join(freshDataDir(), 'booth.toml');
  writeFileSync(path, edit(stdout));
  return path;
}

let keys = 0;

/** Quote + order through the public API; returns the 201 body. */
export async function placeOrder(url, lines = [{ sku: 'TOTE', qty: 1 }]) {
  const quote = await fetch(`${url}/api/v1/quotes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lines, tier: null }),
  });
  if (quote.status !== 200) throw new Error(`quote: ${quote.status} ${await quote.text()}`);
  const q = await quote.json();
  const order = await fetch(`${url}/api/v1/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `ui-test-${process.pid}-${++keys}` },
    body: JSON.stringify({ quote_token: q.token, payment: { method: 'pay_at_pickup' } }),
  });
  if (order.status !== 201) throw new Error(`order: ${order.status} ${await order.text()}`);
  return { ...(await order.json()), total: q.total };
}

/** Enrolls one of the booth's own kiosks with the lead's token; its key (`X-Boothcloud-Kiosk`). */
export async function enrollKiosk(url, operatorToken, name = `test kiosk ${process.pid}-${++keys}`) {
  const r = await fetch(`${url}/api/v1/ops/kiosks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${operatorToken}` },
    body: JSON.stringify({ name }),
  });
  if (r.status !== 201) throw new Error(`enroll: ${r.status} ${await r.text()}`);
  return (await r.json()).token;
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function eventually(what, check, ms = 10_000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

