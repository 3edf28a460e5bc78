// The real desktop app in a real window (WebKitGTK under Xvfb), driven through
// tauri-driver: the app starts, its embedded node answers on the address the app was
// given, the dashboard renders live figures, and an order placed through the node's
// public API shows up in the window; the window may use the folder chooser and the save
// dialog. A screenshot is kept in target/artifacts/.
//
// Run under a display, e.g. `xvfb-run -a node tests/window.mjs` (scripts/test does),
// with `tauri-driver` on PATH and the app built (target/debug/boothcloud).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, fetch as fetchWith } from 'undici';
import { remote } from 'webdriverio';
import { eventually, placeOrder } from './node-process.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const APP = process.env.BOOTHCLOUD_APP_BIN ?? join(ROOT, 'target/debug/boothcloud');
const ARTIFACTS = join(ROOT, 'target/artifacts');

function freePort() {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const [nodePort, plainPort, driverPort] = [await freePort(), await freePort(), await freePort()];
  const home = mkdtempSync(join(tmpdir(), 'boothcloud-app-'));
  // tauri-driver starts WebKitWebDriver, which starts the app with this environment.
  const env = {
    ...process.env,
    BOOTHCLOUD_DATA_DIR: join(home, 'data'),
    BOOTHCLOUD_LISTEN: `127.0.0.1:${nodePort}`,
    BOOTHCLOUD_LISTEN_HTTP: `127.0.0.1:${plainPort}`,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'share'),
    BOOTHCLOUD_LOG: 'warn',
  };
  const driver = spawn('tauri-driver', ['--port', String(driverPort)], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  let browser;
  try {
    await eventually('tauri-driver', async () => (await fetch(`http://127.0.0.1:${driverPort}/status`).catch(() => null))?.ok, 15_000);
    const t0 = Date.now();
    browser = await remote({
      hostname: '127.0.0.1',
      port: driverPort,
      logLevel: 'warn',
      // Only tauri:options: adding browserName makes WebKitWebDriver refuse the session.
      capabilities: { 'tauri:options': { application: APP } },
    });
    const value = await browser.$('[data-testid="orders-today-value"]');
    await value.waitForExist({ timeout: 30_000 });
    console.log(`ok   the window shows live figures (${Date.now() - t0} ms after the session was asked for)`);

    // The window reaches its node over loopback on the plain port; kiosks get HTTPS on
    // the other, with the booth CA the app made in its data folder.
    const url = `http://127.0.0.1:${plainPort}`;
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200, 'the embedded node answers on the address the app was given');
    const ca = readFileSync(join(home, 'data', 'tls', 'booth-ca.pem'), 'utf8');
    const tls = await fetchWith(`https://127.0.0.1:${nodePort}/healthz`, { dispatcher: new Agent({ connect: { ca } }) });
    assert.equal(tls.status, 200, 'kiosks reach the node over HTTPS with the booth CA');
    console.log('ok   the embedded node answers (the window over loopback, kiosks over HTTPS)');

    // The token hand-over a booth laptop uses: the app gives the window the node's address
    // and the operator token it keeps in the OS keyring (the test sets no token of its own).
    const endpoint = await browser.execute(() => window.__TAURI_INTERNALS__.invoke('node_endpoint'));
    assert.equal(endpoint.url, url);
    const status = await fetch(`${url}/api/v1/ops/status`, { headers: { authorization: `Bearer ${endpoint.operator_token}` } });
    assert.equal(status.status, 200, 'the handed-over operator token opens the operator API');
    const secrets = (await status.json()).secrets;
    if (process.env.BOOTHCLOUD_EXPECT_KEYRING === '1') {
      assert.equal(secrets.store, 'os-keyring', `secrets should be in the OS keyring: ${JSON.stringify(secrets)}`);
    }
    console.log(`ok   the app hands the window its endpoint and operator token (secrets in ${secrets.store})`);

    assert.equal(await value.getText(), '0');
    assert.match(await browser.$('[data-testid="event-name"]').getText(), /Harbour Lights/);
    await placeOrder(url);
    await placeOrder(url);
    await browser.waitUntil(async () => (await value.getText()) === '2', { timeout: 5000, timeoutMsg: 'orders placed through the API did not reach the window' });
    console.log('ok   orders placed through the public API appear in the window');

    // Teardown's export folder: in the app, the native folder chooser is offered (the
    // window may call `choose_folder`; the browser dashboard has no such button).
    const open = await browser.$('[data-testid="open-teardown"]');
    await open.scrollIntoView({ block: "center" });
    await open.click();
    await browser.$('[data-testid="choose-folder"]').waitForExist({ timeout: 5000 });
    await browser.$('[data-testid="teardown"] button.primary').click();
    await browser.$('[data-testid="teardown"]').waitForExist({ reverse: true, timeout: 5000 });
    console.log('ok   the teardown screen offers the native folder chooser');

    // The Sync screen's save dialog: the window may call `save_export` (called here
    // without its arguments, so no dialog opens: the app refuses the call, not the ACL).
    const refusal = await browser.execute(() =>
      window.__TAURI_INTERNALS__.invoke('save_export', {}).then(() => 'answered', (e) => String(e?.message ?? e)));
    assert.doesNotMatch(refusal, /not allowed/i, 'save_export is granted to the window');
    assert.match(refusal, /fileName/, `the missing argument is named: ${refusal}`);
    console.log('ok   the window may use the native save dialog (save_export)');

    // A control tapped in the app is audited with the laptop's account as the desktop user.
    // Clicked from the page (a sticky header may cover where WebDriver would click).
    await browser.execute(() => document.querySelector('[data-testid="level-reduced"]').click());
    const auth = { headers: { authorization: `Bearer ${endpoint.operator_token}` } };
    let entry;
    await browser.waitUntil(async () => {
      entry = (await (await fetch(`${url}/api/v1/ops/audit?limit=5`, auth)).json()).find((e) => e.action === 'degrade');
      return entry !== undefined;
    }, { timeout: 5000, timeoutMsg: 'the tap was not audited' });
    assert.equal(entry.client, 'app');
    assert.equal(entry.desktop_user, userInfo().username, 'the desktop user is named');
    await browser.execute(() => document.querySelector('[data-testid="level-normal"]').click());
    console.log(`ok   a control tapped in the app is audited with the desktop user (${entry.desktop_user})`);

    const ready = await browser.execute(() => document.documentElement.dataset.ready);
    assert.equal(ready, 'true');
    await browser.saveScreenshot(join(ARTIFACTS, 'app-window.png'));
    console.log(`ok   screenshot kept in ${join(ARTIFACTS, 'app-window.png')}`);
    console.log('window tests: 8 passed, 0 failed');
  } finally {
    await browser?.deleteSession().catch(() => undefined);
    driver.kill('SIGTERM');
  }
}

main().catch((e) => {
  console.log(`FAIL ${e.stack ?? e}`);
  console.log('window tests: 0 passed, 1 failed');
  process.exit(1);
});
