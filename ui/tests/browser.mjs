// The built dashboard, served by a real headless node, driven in Debian's Chromium:
// token prompt, live figures as orders are placed through the public API, the browser's
// language, the order filter, the sheets (focus kept inside, given back on close), the
// screens, the booth's time (an automatic teardown's countdown, a jump of the laptop's
// clock, reopening), touch target sizes, and surviving a node restart.
//
// Run: `node tests/browser.mjs` after building the UI and the node (scripts/test does).
// BOOTHCLOUD_UI_DIST=ui/dist tests that build against a node compiled with another one.
// Screenshots go to ../target/artifacts/ (and to ../docs/screenshots/ with --screenshots).

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { enrollKiosk, eventually, exampleManifest, freshDataDir, nodeBinary, OPERATOR_TOKEN, placeOrder, startNode, steppedClock, testCertificateAuthority } from './node-process.mjs';
import { X509Certificate } from 'node:crypto';

const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'target/artifacts');
const DOCS = join(ROOT, 'docs/screenshots');
const updateDocs = process.argv.includes('--screenshots');
const UI_DIST = process.env.BOOTHCLOUD_UI_DIST ? resolve(process.env.BOOTHCLOUD_UI_DIST) : null;

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };

/**
 * With BOOTHCLOUD_UI_DIST: the page gets the dashboard's files (`/`, `/index.html`,
 * `/favicon.png`, `/_app/*`) from that folder — the page with the headers the node sends
 * with its own, the bundles with the node's headers for bundles — and everything else
 * from the node.
 */
async function serveDist(page) {
  if (!UI_DIST) return;
  const dashboard = (u) => ['/', '/index.html', '/favicon.png'].includes(u.pathname) || u.pathname.startsWith('/_app/');
  await page.route(dashboard, async (route) => {
    const { pathname } = new URL(route.request().url());
    const name = pathname === '/' ? 'index.html' : pathname.slice(1);
    let body;
    try {
      body = readFileSync(join(UI_DIST, name));
    } catch {
      return route.fulfill({ status: 404, body: 'not in BOOTHCLOUD_UI_DIST' });
    }
    const headers = name === 'index.html'
      ? (await route.fetch()).headers()
      : { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream', 'x-content-type-options': 'nosniff',
          'cache-control': name.startsWith('_app/') ? 'public, max-age=31536000, immutable' : 'no-cache' };
    delete headers['content-length'];
    await route.fulfill({ status: 200, headers, body });
  });
}

export async function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
}

const results = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
    throw e;
  }
}

const text = (page, id) => page.getByTestId(id).innerText();

/** A page on the node's dashboard (a fresh browser context each), token entered when given. */
async function openDashboard(browser, url, { token = null, ...context } = {}) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true, ...context });
  page.setDefaultTimeout(15_000);
  await serveDist(page);
  await page.goto(url);
  if (token) {
    await page.getByLabel('Operator token').fill(token);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
  }
  return page;
}

/** Where focus is: inside the sheet `testid` or not, and the focused control's name. */
const focus = (page, testid) => page.evaluate((id) => {
  const a = document.activeElement;
  return { inside: !!a?.closest(`[data-testid="${id}"]`), name: a?.getAttribute('data-testid') || a?.textContent?.trim() || a?.tagName };
}, testid);

/** How many stops Tab has inside the sheet `testid`. */
const tabStops = (page, testid) => page.getByTestId(testid).evaluate((sheet) =>
  [...sheet.querySelectorAll('a[href], button, input, select, textarea, video[controls], [tabindex]')]
    .filter((e) => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0).length);

/** Holds the pointer down on `button` for `ms`, as a finger does. */
async function holdDown(page, button, ms) {
  await button.scrollIntoViewIfNeeded();
  const box = await button.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.waitForTimeout(ms);
  await page.mouse.up();
}

/** The controls inside `scope` smaller than 48 px or without a name, in words (none: []). */
const smallControls = (scope) => scope.locator('button, input, [role=button]').evaluateAll((els) =>
  els.map((e) => ({ name: e.getAttribute('aria-label') || e.labels?.[0]?.textContent?.trim() || e.textContent?.trim(), box: e.getBoundingClientRect() }))
    .filter((e) => e.box.width > 0 && (!e.name || e.box.width < 48 || e.box.height < 48))
    .map((e) => `${e.name || '(unnamed)'} ${Math.round(e.box.width)}x${Math.round(e.box.height)}`));

/** `GET path` on a node as the operator. */
const opsGet = async (url, path) => (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).json();

/** The demo manifest ending `seconds` from now, tearing down at once after a `countdown`. */
const endingSoon = (seconds, countdown) => (text) => text
  .replace(/^ends_at = .*$/m, `ends_at = ${new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z')}`)
  .replace('# after_end = "1h"', 'after_end = "0s"')
  .replace(/^countdown = .*$/m, `countdown = "${countdown}"`);

/** Seconds since midnight of an "HH:MM:SS" reading. */
const seconds = (hms) => hms.split(':').reduce((t, n) => t * 60 + Number(n), 0);
/** How far apart two "HH:MM:SS" readings are, in seconds, across midnight: 0 to 43,200. */
const apart = (a, b) => {
  const d = Math.abs(seconds(a) - seconds(b)) % 86_400;
  return Math.min(d, 86_400 - d);
};

/** Screenshots of `page` at 1280x800 in the light and the dark theme, named `name-1280x800-{theme}.png`. */
async function lightAndDark(page, name) {
  for (const theme of ['light', 'dark']) {
    if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== theme) {
      await page.evaluate(() => document.querySelector('[data-testid=theme]').click());
    }
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-1280x800-${theme}.png`) });
    if (updateDocs) await page.screenshot({ path: join(DOCS, `${name}-1280x800-${theme}.png`) });
  }
  await page.evaluate(() => document.querySelector('[data-testid=theme]').click());
}

/**
 * The booth's time, each on a booth of its own: an automatic teardown's countdown on
 * every screen and a hold that cancels it; a jump of the laptop's clock (libfaketime)
 * and the lead's two answers to it; reopening a booth its end time closed.
 */
async function timeSteps(browser) {
  await step('an automatic teardown counts down on every screen; a 2-second hold cancels it and the booth stays open', async () => {
    // The event ends in 3 s, teardown starts at the end, after a 30 s countdown.
    const booth = await startNode({ dataDir: freshDataDir(), manifest: await exampleManifest(endingSoon(3, '30s')) });
    const page = await openDashboard(browser, booth.url, { token: OPERATOR_TOKEN });
    try {
      const banner = page.getByTestId('countdown');
      await banner.waitFor({ timeout: 20_000 });
      assert.match(await banner.innerText(), /Automatic teardown[\s\S]*The booth closes in \d+ s[\s\S]*reached the event's end time\. At \d\d:\d\d:\d\d it stops taking orders/);
      // It counts down between the node's answers.
      const left = async () => Number(await page.getByTestId('countdown-left').getAttribute('data-seconds'));
      const first = await left();
      await page.waitForTimeout(1300);
      const then = await left();
      assert.ok(then < first && then > 0, `${first} s, then ${then} s`);
      assert.deepEqual(await smallControls(banner), []);
      await lightAndDark(page, 'countdown');

      // On a sheet too, at its top, and reachable there (the booth screen behind is inert).
      await page.getByTestId('open-fleet').click();
      const fleet = page.getByTestId('fleet');
      await fleet.getByTestId('countdown').waitFor();
      assert.equal(await page.getByTestId('countdown').count(), 1, 'shown once: in the sheet, not behind it');
      await page.screenshot({ path: join(ARTIFACTS, 'countdown-over-fleet-1280x800-light.png') });

      // A tap cancels nothing; a 2-second hold does, and the answer takes the banner's place.
      const cancel = fleet.getByTestId('cancel-countdown');
      await cancel.click();
      await eventually('the hold hint', async () => (await cancel.innerText()).includes('Keep holding for 2 seconds'));
      assert.notEqual((await opsGet(booth.url, '/api/v1/ops/teardown')).countdown, null, 'a tap cancels nothing');
      await holdDown(page, cancel, 2400);
      const answer = fleet.getByTestId('countdown-message');
      await eventually('the answer', async () => /^Automatic teardown cancelled: the booth stays open\. The end time will not close it again/.test(await answer.innerText()), 5000);
      await banner.waitFor({ state: 'detached', timeout: 5000 });
      const t = await opsGet(booth.url, '/api/v1/ops/teardown');
      assert.deepEqual([t.countdown, t.closed, t.stood_down], [null, false, true]);
      // Nothing traps staff: the sheet closes, the booth screen is back in reach.
      await fleet.getByRole('button', { name: 'Close' }).click();
      await fleet.waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.querySelector('main').inert), false);
      await page.getByTestId('open-teardown').click();
      const teardown = page.getByTestId('teardown');
      assert.equal(await teardown.getByTestId('teardown-stood-down').innerText(),
        'The end time will not close this booth again; start teardown by hand when you are done.');
      await teardown.getByRole('button', { name: 'Close' }).click();
    } finally {
      await page.close();
      await booth.stop();
    }
  });

  await step('a new operator token with a hold: shown once, this screen keeps working, the old token is refused at once', async () => {
    const booth = await startNode({ dataDir: freshDataDir() });
    const page = await openDashboard(browser, booth.url, { token: OPERATOR_TOKEN });
    try {
      const rotate = page.getByTestId('rotate-token');
      await rotate.click();
      assert.equal((await fetch(`${booth.url}/api/v1/ops/status`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).status, 200, 'a tap rotates nothing');
      await holdDown(page, rotate, 2400);
      const shown = page.getByTestId('new-token');
      await shown.waitFor();
      const token = (await shown.locator('code').innerText()).trim();
      assert.ok(token.length >= 32 && token !== OPERATOR_TOKEN, token);
      assert.match(await page.getByTestId('control-message').innerText(), /^New operator token made\. The old token is refused from now on/);
      assert.deepEqual(await smallControls(page.locator('.controls')), []);
      await page.screenshot({ path: join(ARTIFACTS, 'new-token-1280x800-light.png') });
      const status = async (t) => (await fetch(`${booth.url}/api/v1/ops/status`, { headers: { authorization: `Bearer ${t}` } })).status;
      assert.deepEqual([await status(OPERATOR_TOKEN), await status(token)], [401, 200]);
      // This screen carries on with the new token (and this browser keeps it).
      await page.getByTestId('hide-token').click();
      await shown.waitFor({ state: 'detached' });
      await page.getByTestId('reload-prices').click();
      await eventually('the reload answer', async () => /^Price list reloaded/.test(await page.getByTestId('control-message').innerText()), 5000);
    } finally {
      await page.close();
      await booth.stop();
    }
  });

  await step('the lead adds staff with a PIN, sees who is signed in, gives a new PIN and removes someone with a hold', async () => {
    const booth = await startNode({ dataDir: freshDataDir() });
    const page = await openDashboard(browser, booth.url, { token: OPERATOR_TOKEN });
    try {
      const staff = page.getByTestId('staff');
      await staff.scrollIntoViewIfNeeded();
      await staff.getByTestId('staff-name').fill('Ana');
      await staff.getByTestId('staff-pin').fill('12');
      await staff.getByTestId('add-staff').click();
      assert.match(await staff.getByTestId('staff-message').innerText(), /PIN of 4 to 12 digits/);
      await staff.getByTestId('staff-pin').fill('4821');
      await staff.getByTestId('add-staff').click();
      await eventually('Ana on the list', async () => /Ana\s+Not signed in/.test(await staff.getByTestId('staff-list').innerText()), 5000);
      const signIn = (pin) => fetch(`${booth.url}/api/v1/staff/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ana', pin }) });
      assert.equal((await signIn('4821')).status, 200);
      await eventually('Ana signed in', async () => /Signed in on 1 device/.test(await staff.getByTestId('staff-list').innerText()), 8000);
      await staff.getByTestId('reset-pin').click();
      await staff.getByTestId('new-pin').fill('7373');
      await staff.getByTestId('save-pin').click();
      await eventually('the new PIN', async () => /Ana has a new PIN; their devices are signed out/.test(await staff.getByTestId('staff-message').innerText()), 5000);
      assert.deepEqual([(await signIn('4821')).status, (await signIn('7373')).status], [401, 200]);
      assert.deepEqual(await smallControls(staff), []);
      await page.screenshot({ path: join(ARTIFACTS, 'staff-1280x800-light.png') });
      await holdDown(page, staff.getByTestId('remove-staff'), 2400);
      await eventually('Ana removed', async () => /No one yet/.test(await staff.innerText()), 8000);
    } finally {
      await page.close();
      await booth.stop();
    }
  });

  await step('a jump of the laptop\'s clock shows a notice on every screen; "The laptop\'s clock is right" settles it', async () => {
    const clock = steppedClock(0);
    const dataDir = freshDataDir();
    let booth = await startNode({ dataDir, env: clock.env });
    const listen = booth.url.replace('https://', '');
    const page = await openDashboard(browser, booth.url, { token: OPERATOR_TOKEN });
    try {
      await page.getByTestId('orders-today-value').waitFor();
      assert.equal(await page.getByTestId('clock-notice').count(), 0, 'no doubt before the jump');

      // The laptop's clock jumps an hour forward; the booth keeps its own time.
      clock.stepTo(3600);
      const notice = page.getByTestId('clock-notice');
      await notice.waitFor({ timeout: 15_000 });
      assert.match(await text(page, 'clock-notice-words'),
        /^The laptop's clock jumped forward (1 h 00 min|59 min 5\d s) at \d\d:\d\d\. The booth keeps counting from its own time \(\d\d:\d\d\) until the hub, a paired booth or the lead confirms/);
      const laptop = await text(page, 'clock-notice-laptop');
      const boothTime = await text(page, 'clock-notice-booth');
      assert.ok(Math.abs(apart(laptop, boothTime) - 3600) <= 3, `laptop ${laptop}, booth ${boothTime}`);
      assert.ok(apart(await text(page, 'clock'), boothTime) <= 2, 'the header shows the booth\'s time, not the laptop\'s');
      assert.equal(await page.getByTestId('automations-held').count(), 0, 'a jump alone holds no automation');
      assert.deepEqual(await smallControls(notice), []);
      await lightAndDark(page, 'clock-notice');

      // The time screen lists the jump in words, with the notice and its choices on top.
      await page.getByTestId('open-clock-details').click();
      const sheet = page.getByTestId('clock-sheet');
      await sheet.waitFor();
      assert.match(await text(page, 'clock-steps'), /^The laptop's clock jumped forward (1 h 00 min|59 min 5\d s) at \d\d:\d\d\.$/);
      assert.match(await text(page, 'clock-offset'), /^The laptop's clock is (1 h 00 min|59 min 5\d s) ahead of the booth's time\.$/);
      await sheet.getByTestId('clock-notice').waitFor();
      assert.deepEqual(await smallControls(sheet), []);
      await page.screenshot({ path: join(ARTIFACTS, 'clock-sheet-1280x800-light.png') });
      await sheet.getByRole('button', { name: 'The laptop\'s clock is right' }).click();
      await eventually('the answer', async () => /^Done: the booth now follows the laptop's clock \(\d\d:\d\d:\d\d\)\./.test(await text(page, 'clock-message')), 5000);
      await notice.waitFor({ state: 'detached', timeout: 5000 });
      const settled = await opsGet(booth.url, '/api/v1/ops/clock');
      assert.equal(settled.in_doubt, false);
      await eventually('both clocks agree', async () => (await text(page, 'clock-offset')) === 'The laptop\'s clock and the booth\'s time agree.', 5000);
      await sheet.getByRole('button', { name: 'Close' }).click();
      await sheet.waitFor({ state: 'detached' });
      assert.ok(apart(await text(page, 'clock'), laptop) <= 60, 'the header follows the laptop\'s clock now');
      const audit = await opsGet(booth.url, '/api/v1/ops/audit');
      assert.ok(audit.some((e) => e.action === 'confirm time' && /the laptop's clock is right/.test(e.after)), 'audited');

      // The laptop restarts the booth with its clock an hour back, before the booth's
      // last run: automations wait, and the lead keeps the booth's time.
      await booth.stop();
      clock.stepTo(0);
      booth = await startNode({ dataDir, listen, env: clock.env });
      await notice.waitFor({ timeout: 20_000 });
      assert.match(await text(page, 'clock-notice-words'), /earlier than when this booth last ran[\s\S]*Time-based automations wait/);
      assert.equal(await text(page, 'automations-held'), 'Until you choose, the automatic teardown and timed runbooks wait.');
      await page.screenshot({ path: join(ARTIFACTS, 'clock-notice-held-1280x800-light.png') });
      await page.getByRole('button', { name: 'Keep the booth\'s time' }).click();
      await eventually('the answer', async () =>
        /^Done: the booth keeps its own time \(\d\d:\d\d:\d\d\)\. The laptop's clock is (1 h 00 min|59 min 5\d s) behind the booth's time\./.test(await text(page, 'clock-message')), 5000);
      await notice.waitFor({ state: 'detached', timeout: 5000 });
      assert.equal((await opsGet(booth.url, '/api/v1/ops/clock')).automations_held, false);
    } finally {
      await page.close();
      await booth.stop();
    }
  });

  await step('a booth its end time closed is reopened with a hold, and sells again', async () => {
    const booth = await startNode({ dataDir: freshDataDir(), manifest: await exampleManifest(endingSoon(3, '10s')) });
    // An order the booth cannot send anywhere (its hub is fictional): teardown stops before the wipe.
    await placeOrder(booth.url);
    const page = await openDashboard(browser, booth.url, { token: OPERATOR_TOKEN });
    try {
      await eventually('the booth closed by itself', async () => (await text(page, 'mode')) === 'Closed — teardown', 30_000);
      await page.getByTestId('open-teardown').click();
      const sheet = page.getByTestId('teardown');
      const reopen = sheet.getByTestId('reopen');
      await reopen.waitFor({ timeout: 10_000 });
      assert.match(await reopen.innerText(), /The event's end time closed this booth\./);
      assert.match(await text(page, 'teardown-summary'), /^Tearing down|^Teardown is waiting for you/);
      assert.deepEqual(await smallControls(sheet), []);
      await page.screenshot({ path: join(ARTIFACTS, 'teardown-reopen-1280x800-light.png') });
      const t = await opsGet(booth.url, '/api/v1/ops/teardown');
      assert.deepEqual([t.automatic, t.reopenable, t.closed], [true, true, true]);

      await holdDown(page, sheet.getByTestId('reopen-booth'), 2400);
      await eventually('the answer', async () => /^The booth is open again: kiosks can order\./.test(await text(page, 'teardown-message')), 10_000);
      assert.equal(await text(page, 'teardown-stood-down'), 'The end time will not close this booth again; start teardown by hand when you are done.');
      assert.equal(await reopen.count(), 0);
      await page.screenshot({ path: join(ARTIFACTS, 'teardown-reopened-1280x800-light.png') });
      assert.equal((await opsGet(booth.url, '/api/v1/ops/teardown')).closed, false);
      await placeOrder(booth.url);
      await sheet.getByRole('button', { name: 'Close' }).click();
      await eventually('selling again', async () => (await text(page, 'mode')) === 'Selling locally', 5000);
    } finally {
      await page.close();
      await booth.stop();
    }
  });
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = freshDataDir();
  let node = await startNode({ dataDir });
  const url = node.url;
  const listen = url.replace('https://', '');
  const browser = await launchChromium();
  if (process.env.BOOTHCLOUD_UI_DIST) console.log(`     the dashboard's files come from ${process.env.BOOTHCLOUD_UI_DIST}, not from the node`);
  const page = await openDashboard(browser, url);
  try {
    await step('asks for the operator token once, and refuses a wrong one', async () => {
      await page.getByLabel('Operator token').fill('definitely-not-the-token');
      await page.getByRole('button', { name: 'Open dashboard' }).click();
      await page.getByTestId('token-refused').waitFor();
      await page.getByLabel('Operator token').fill(OPERATOR_TOKEN);
      await page.getByRole('button', { name: 'Open dashboard' }).click();
      await page.getByTestId('orders-today-value').waitFor();
      assert.equal(await text(page, 'event-name'), 'Harbour Lights Winter Market — Stand 14');
      await page.reload();
      await page.getByTestId('orders-today-value').waitFor({ timeout: 5000 });
    });

    await step('shows the booth state in words', async () => {
      await eventually('the live marker', async () => (await text(page, 'feed')).includes('Live'));
      assert.equal(await text(page, 'orders-today-value'), '0');
      assert.equal(await text(page, 'mode'), 'Selling locally');
      assert.equal(await text(page, 'uplink'), 'Uplink not checked');
      assert.match(await text(page, 'clock'), /^\d\d:\d\d:\d\d$/);
      assert.match(await text(page, 'price-engine'), /\d+ items · \d+ offers/);
      assert.equal(await page.evaluate(() => document.documentElement.dataset.ready), 'true');
    });

    let revenue = 0;
    await step('live figures follow orders placed through the public API', async () => {
      const t0 = Date.now();
      for (let i = 0; i < 3; i++) revenue += (await placeOrder(url)).total;
      await eventually('3 orders on screen', async () => (await text(page, 'orders-today-value')) === '3', 5000);
      console.log(`     figures updated ${Date.now() - t0} ms after the first order`);
      assert.equal(await text(page, 'queued-value'), '3');
      const shown = await text(page, 'revenue-today-value');
      assert.equal(shown, `€${(revenue / 100).toFixed(2)}`);
      await eventually('3 order rows', async () => (await page.getByTestId('order-row').count()) === 3);
    });

    await step('numbers follow the browser\'s language; money stays in the event\'s currency', async () => {
      const german = await openDashboard(browser, url, { token: OPERATOR_TOKEN, locale: 'de-DE' });
      try {
        await eventually('3 orders on the German screen', async () => (await text(german, 'orders-today-value')) === '3', 10_000);
        const euros = `${(revenue / 100).toFixed(2).replace('.', ',')}\u00a0€`;
        assert.equal(await text(german, 'revenue-today-value'), euros);
        assert.match(await text(german, 'clock'), /^\d\d:\d\d:\d\d$/, 'the booth clock stays on 24 hours');
        assert.match(await text(german, 'spend'), /von|of [\d.,]+\u00a0€ budget/);
      } finally {
        await german.close();
      }
      assert.equal(await text(page, 'revenue-today-value'), `€${(revenue / 100).toFixed(2)}`, 'English (the test browser) as before');
    });

    await step('filters the order list by state', async () => {
      await page.getByTestId('filter-synced').click();
      await eventually('no synced orders', async () => (await page.getByTestId('order-row').count()) === 0 && (await page.getByText('No orders here yet.').isVisible()));
      assert.equal(await page.getByTestId('filter-synced').getAttribute('aria-pressed'), 'true');
      await page.getByTestId('filter-captured').click();
      await eventually('3 waiting orders', async () => (await page.getByTestId('order-row').count()) === 3);
      const states = await page.getByTestId('order-row').evaluateAll((rows) => rows.map((r) => r.dataset.status));
      assert.deepEqual(states, ['captured', 'captured', 'captured']);
      await page.getByTestId('filter-all').click();
    });

    await step('the cache tile shows the warmed storefront and its hit ratio', async () => {
      await eventually('warm-up done', async () => (await text(page, 'cache')).includes('Storefront ready: 25 files'), 10_000);
      for (const path of ['index.html', 'css/store.css', 'img/tote.jpg', 'img/hero.jpg']) {
        const r = await fetch(`${url}/assets/${path}`);
        assert.equal(r.status, 200, path);
        assert.equal(r.headers.get('x-cache'), 'HIT', path);
        await r.arrayBuffer();
      }
      await eventually('100% hits', async () => (await text(page, 'cache-hit-ratio')) === '100%', 5000);
      assert.match(await text(page, 'cache'), /25 files kept/);
    });

    await step('speed and spend move when the simulator plays the booth', async () => {
      const opsStatus = async () => (await fetch(`${url}/api/v1/ops/status`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).json();
      const before = (await opsStatus()).spend.total.spent_micro;
      const t0 = Date.now();
      const caFile = join(freshDataDir(), 'ca.pem');
      writeFileSync(caFile, testCertificateAuthority().pem);
      const { stdout } = await promisify(execFile)(nodeBinary(), [
        'simulate', '--target', url, '--ca', caFile, '--duration', '12s', '--kiosks', '3', '--phones', '8', '--pace', '0.2', '--burst-every', '5s', '--burst-size', '8',
      ]);
      const report = JSON.parse(stdout);
      console.log(`     simulator: ${report.requests} requests, ${report.orders} orders in ${Date.now() - t0} ms`);
      assert.equal(report.failures + report.unreachable, 0, stdout);
      assert.ok(report.orders > 0 && report.assets > 0, stdout);
      await eventually('busy routes on the speed tile', async () => /[\d.]+( m?s)? \/ [\d.]+ m?s/.test(await text(page, 'latency-value')), 5000);
      assert.match(await text(page, 'latency'), /Placing orders|Pricing baskets|Storefront files/);
      assert.match(await text(page, 'spend'), /of €150\.00 budget/);
      assert.ok((await opsStatus()).spend.total.spent_micro > before, 'the requests were metered');
      assert.match(await text(page, 'spend-projection'), /At this rate: €[\d,.]+ by|Projection after a minute/);
      assert.match(await text(page, 'transcodes'), /No video transcoded yet/);
    });

    await step('a tile opens its chart and figures, and closes with one tap', async () => {
      for (const [name, rows] of [['spend', 5], ['latency', 1], ['hit-ratio', 5], ['transcodes', 1]]) {
        await page.getByTestId(`open-${name}`).click();
        const dialog = page.getByTestId(`detail-${name}`);
        await dialog.waitFor();
        const chart = dialog.getByTestId('detail-chart');
        await chart.waitFor();
        await eventually(`the ${name} chart drawn`, async () => (await chart.evaluate((img) => img.complete && img.naturalWidth)) > 300);
        assert.ok((await dialog.locator('[data-testid=detail-table] tbody tr').count()) >= rows, name);
        await dialog.getByRole('button', { name: 'Whole event' }).click();
        assert.equal(await dialog.getByRole('button', { name: 'Whole event' }).getAttribute('aria-pressed'), 'true');
        if (name === 'spend') {
          // What went beyond the booth, by purpose (the storefront's origin was fetched).
          const traffic = dialog.getByTestId('traffic-table');
          assert.equal(await traffic.locator('tbody tr').count(), 6);
          assert.match(await traffic.innerText(), /Storefront files from the origin[^\n]*\d[\d.,]*\s*[kMG]?B/);
          assert.match(await traffic.innerText(), /Calls to paired booths \(venue network\) \(free: not over the uplink\)/);
          // A picture goes to the downloads: the screen says it started, not that it is saved.
          const download = page.waitForEvent('download');
          await dialog.getByTestId('save-picture').click();
          assert.match((await download).suggestedFilename(), /^boothcloud-.+-spend-event\.png$/);
          assert.equal(await text(page, 'picture-message'), 'Download started — check your downloads folder.');
        }
        if (name === 'spend' || name === 'latency') {
          await page.waitForTimeout(400);
          await page.screenshot({ path: join(ARTIFACTS, `detail-${name}-1280x800.png`) });
          if (updateDocs) await page.screenshot({ path: join(DOCS, `detail-${name}-1280x800.png`) });
        }
        await dialog.getByRole('button', { name: 'Close' }).click();
        await dialog.waitFor({ state: 'detached' });
      }
    });

    await step('emptying the cache needs a 2-second hold, then the storefront comes back', async () => {
      const objects = async () => (await (await fetch(`${url}/api/v1/ops/assets`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).json()).storage.objects;
      // The demo storefront's files, every one warmed.
      const kept = await objects();
      assert.equal(kept, 25);
      const button = page.getByTestId('empty-cache');
      await button.click();
      await eventually('the hold hint', async () => (await button.innerText()).includes('Keep holding for 2 seconds'));
      assert.equal(await objects(), kept, 'a tap empties nothing');
      const box = await button.boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.waitForTimeout(800);
      await page.mouse.up();
      assert.equal(await objects(), kept, 'letting go early empties nothing');
      await page.mouse.down();
      await page.waitForTimeout(2400);
      await page.mouse.up();
      await eventually('the emptied message', async () => new RegExp(`Cache emptied \\(${kept} saved files removed\\); fetching the storefront again`).test(await text(page, 'control-message')), 5000);
      await eventually('the storefront warmed again', async () => (await objects()) === kept, 10_000);
      await eventually('the tile says so', async () => (await text(page, 'cache')).includes('Storefront ready: 25 files'), 5000);
    });

    await step('a sheet keeps focus inside while open, closes with Escape, and gives focus back', async () => {
      // By keyboard: Enter on the Devices button.
      const opener = page.getByTestId('open-devices');
      await opener.focus();
      await page.keyboard.press('Enter');
      await page.getByTestId('devices').waitFor();
      assert.deepEqual(await focus(page, 'devices'), { inside: true, name: 'Close' }, 'focus moves into the sheet');
      assert.deepEqual(await page.evaluate(() => [document.querySelector('header').inert, document.querySelector('main').inert]), [true, true],
        'the booth screen behind is out of reach');
      const stops = await tabStops(page, 'devices');
      assert.ok(stops >= 2, `${stops} stops`);
      for (const key of ['Tab', 'Shift+Tab']) {
        const names = [];
        for (let i = 0; i < stops; i++) {
          await page.keyboard.press(key);
          const f = await focus(page, 'devices');
          assert.ok(f.inside, `${key} ${i + 1} of ${stops} left the sheet (to ${f.name})`);
          names.push(f.name);
        }
        assert.equal(names.at(-1), 'Close', `${key} went round the sheet and back to Close: ${names.join(' → ')}`);
      }
      await page.keyboard.press('Escape');
      await page.getByTestId('devices').waitFor({ state: 'detached' });
      assert.equal((await focus(page, 'devices')).name, 'open-devices', 'focus is back on the button that opened it');
      assert.equal(await page.evaluate(() => document.querySelector('main').inert), false);

      // By touch, where a tap may not focus the button (iPad Safari): the sheet still
      // gives focus back to it, here after its Close button.
      await page.getByTestId('open-fleet').evaluate((b) => {
        b.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true, pointerType: 'touch' }));
        b.click();
      });
      const fleet = page.getByTestId('fleet');
      await fleet.waitFor();
      assert.equal((await focus(page, 'fleet')).name, 'Close');
      await fleet.getByRole('button', { name: 'Close' }).click();
      await fleet.waitFor({ state: 'detached' });
      assert.equal((await focus(page, 'fleet')).name, 'open-fleet');
    });

    await step('the Devices screen shows a pairing code; the Fleet screen a paired booth and its details', async () => {
      await page.getByTestId('open-devices').click();
      await page.getByTestId('devices').waitFor();
      // The demo's pairing key is public: this booth does not pair by it, and says so.
      await eventually('the discovery summary', async () => (await text(page, 'discovery-summary')).includes('Pairing key: the demo key, refused'), 5000);
      assert.match(await text(page, 'key-notice'), /anyone can read, so it does not pair by key/);
      await page.screenshot({ path: join(ARTIFACTS, 'devices-demo-key-1280x800.png') });
      await page.getByTestId('show-code').click();
      const code = await page.getByTestId('pairing-code').locator('strong').innerText();
      assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      await page.screenshot({ path: join(ARTIFACTS, 'devices-1280x800.png') });
      if (updateDocs) await page.screenshot({ path: join(DOCS, 'devices-1280x800.png') });

      // Enrolling a kiosk: the QR code of the enrollment page and the CA's fingerprint,
      // the same as the certificate the page over HTTPS was served under.
      await page.getByTestId('show-enroll').click();
      const fp = await page.getByTestId('ca-fingerprint').innerText();
      assert.equal(fp, new X509Certificate(testCertificateAuthority().pem).fingerprint256, 'the fingerprint of the booth CA');
      const qr = page.getByTestId('enroll-qr');
      await qr.scrollIntoViewIfNeeded();
      assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth >= 200), 'the QR code is drawn');
      assert.ok((await page.evaluate(() => location.protocol)) === 'https:', 'the dashboard is served over HTTPS');
      await page.screenshot({ path: join(ARTIFACTS, 'devices-enroll-1280x800.png') });

      // The booth's own kiosks: enrolled by name (the key shown once), revoked with a hold.
      const kiosks = page.getByTestId('kiosks');
      await kiosks.getByTestId('kiosk-name').fill('Kiosk by the door');
      await kiosks.getByTestId('enroll-kiosk').click();
      const key = (await kiosks.getByTestId('kiosk-token').locator('code').innerText()).trim();
      assert.match(key, /^bck_[A-Za-z0-9_-]{40,}$/);
      const asKiosk = (k) => fetch(`${url}/api/v1/quotes`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-boothcloud-kiosk': k }, body: JSON.stringify({ lines: [{ sku: 'TOTE', qty: 1 }] }) });
      assert.equal((await asKiosk(key)).status, 200, 'the enrolled kiosk quotes');
      await eventually('the kiosk listed as heard from', async () => /Kiosk by the door\s*Last heard from/.test(await kiosks.getByTestId('kiosk-list').innerText()), 8000);
      assert.deepEqual(await smallControls(kiosks), []);
      await kiosks.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, 'devices-kiosks-1280x800.png') });
      await holdDown(page, kiosks.getByTestId('revoke-kiosk'), 2400);
      await eventually('the kiosk revoked', async () => /No kiosk enrolled yet/.test(await kiosks.innerText()), 8000);
      assert.equal((await asKiosk(key)).status, 401, 'a revoked kiosk is refused at once');
      await page.getByRole('button', { name: 'Close' }).click();

      // A second booth names this one by address (a remote booth): its Fleet screen
      // pairs with it over the signed peer API and shows its figures — and that this
      // booth's clock is three minutes behind its own (its laptop's clock is ahead).
      const manifest = join(freshDataDir(), 'booth.toml');
      const example = await promisify(execFile)(nodeBinary(), ['manifest', 'example']);
      writeFileSync(manifest, example.stdout
        .replace(/^name = "Stand 14 laptop"$/m, 'name = "Stand 15 laptop"')
        .replace(/^peers = \[\]$/m, `peers = [{ name = "Stand 14", url = "${url}/", ca = "${new X509Certificate(testCertificateAuthority().pem).fingerprint256}" }]`));
      const peer = await startNode({ dataDir: freshDataDir(), manifest, env: steppedClock(180).env });
      // Both hold the demo's public key, so the second booth pairs with the code shown here.
      let id = null;
      await eventually('the second booth knows this one', async () => {
        id = (await opsGet(peer.url, '/api/v1/ops/fleet')).booths.find((b) => b.id)?.id ?? null;
        return id !== null;
      }, 10_000);
      const paired = await fetch(`${peer.url}/api/v1/ops/peers/${id}/pair`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      assert.equal(paired.status, 200, await paired.text());
      const other = await openDashboard(browser, peer.url, { token: OPERATOR_TOKEN });
      try {
        await other.getByTestId('open-fleet').click();
        const card = other.getByTestId('booth-card').first();
        await eventually('the paired booth', async () => /Stand 14 laptop[\s\S]*Selling/.test(await card.innerText()), 10_000);
        assert.match(await card.innerText(), /Waiting to sync\s+\d+/);
        await eventually('the clocks apart, in words', async () =>
          /^Its clock is (2 min 5\d|3 min 0\d) s behind this booth's\.$/.test(await card.getByTestId('booth-clock').innerText()), 10_000);
        await card.getByRole('button').first().click();
        const detail = await other.getByTestId('booth-detail').innerText();
        assert.match(detail, /Paired: every request between the booths is signed/);
        assert.match(detail, /By address in the price list file/);
        await other.screenshot({ path: join(ARTIFACTS, 'fleet-1280x800.png') });
        if (updateDocs) await other.screenshot({ path: join(DOCS, 'fleet-1280x800.png') });
      } finally {
        await other.close();
        await peer.stop();
      }
    });

    await step('the Media screen issues an upload token; an upload arrives; clips are made and previewed', async () => {
      await page.getByTestId('open-media').click();
      await page.getByTestId('media').waitFor();
      await page.getByTestId('token-label').fill('Camera 1');
      await page.getByTestId('issue-token').click();
      const token = await page.getByTestId('issued-token').locator('strong').innerText();
      assert.match(token, /^bcu_[A-Za-z0-9_-]{43}$/);

      // The camera: a 2-second clip sent with tus creation-with-upload and that token.
      const clip = join(freshDataDir(), 'clip.mp4');
      await promisify(execFile)('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine',
        '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest', clip]);
      const bytes = readFileSync(clip);
      const created = await fetch(`${url}/api/v1/uploads/`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(bytes.length),
          'upload-metadata': `filename ${Buffer.from('stand demo.mp4').toString('base64')}`, 'content-type': 'application/offset+octet-stream',
        },
        body: bytes,
      });
      assert.equal(created.status, 201);
      const row = page.getByTestId('upload-row').filter({ hasText: 'stand demo.mp4' });
      await eventually('the upload row', async () => /Camera 1[\s\S]*Uploaded/.test(await row.innerText()), 5000);

      // A poster of the whole upload, then a clip of a part of it: a wrong part is
      // explained in words and nothing is sent; the right one reaches the node as asked.
      const jobs = async () => (await (await fetch(`${url}/api/v1/ops/transcodes?limit=100`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).json()).jobs;
      const form = page.getByTestId('clip-form');
      await row.getByTestId('make-clip').click();
      await form.getByTestId('make-poster').click();
      await form.waitFor({ state: 'detached' });
      await eventually('the poster asked for', async () => (await jobs()).length === 1, 5000);
      await row.getByTestId('make-clip').click();
      await form.getByTestId('clip-start').fill('1.5');
      await form.getByTestId('clip-end').fill('0:01');
      await form.getByTestId('make-480p').click();
      assert.equal(await text(page, 'clip-problem'), 'The end (0:01) must come after the start (0:01.5).');
      assert.equal(await form.getByTestId('clip-end').getAttribute('aria-invalid'), 'true');
      await form.getByTestId('clip-start').fill('-1');
      await form.getByTestId('clip-end').fill('');
      await form.getByTestId('make-480p').click();
      assert.match(await text(page, 'clip-problem'), /^The start cannot be before the beginning/);
      assert.equal((await jobs()).length, 1, 'a wrong start or end sends nothing');
      await form.getByTestId('clip-start').fill('0.5');
      await form.getByTestId('clip-end').fill('0:01.5');
      await form.getByTestId('make-480p').click();
      await form.waitFor({ state: 'detached' });
      assert.equal(await text(page, 'media-message'), 'Making 480p of stand demo.mp4 from 0:00.5 to 0:01.5.');
      const trimmed = (await jobs()).find((j) => j.preset === '480p');
      assert.ok(trimmed, 'the clip was asked for');
      assert.deepEqual([trimmed.start_ms, trimmed.end_ms], [500, 1500], 'start_s and end_s reached the node');
      const ready = page.getByTestId('job-row').filter({ hasText: 'Ready' });
      await eventually('two clips ready', async () => (await ready.count()) === 2, 30_000);
      assert.match(await page.getByTestId('job-row').filter({ hasText: '480p' }).innerText(), /480p, 0:00\.5–0:01\.5/, 'the job shows its part');
      const poster = page.getByTestId('job-row').filter({ hasText: 'poster' });
      await poster.getByTestId('preview').click();
      const shown = page.getByTestId('clip-preview');
      await eventually('the poster shows', async () => shown.locator('img').evaluate((img) => img.complete && img.naturalWidth === 640), 5000);
      const video = page.getByTestId('job-row').filter({ hasText: '480p' });
      await video.getByTestId('preview').click();
      await eventually('the clip plays, one second long', async () => shown.locator('video').evaluate((v) => v.readyState >= 1 && Math.abs(v.duration - 1) < 0.2), 10_000);
      await eventually('the tile counts the minutes', async () => (await text(page, 'transcodes-running')).includes('at most'), 5000);

      // With a clip form open (and the preview closed), so its fields are measured and shown too.
      await video.getByTestId('preview').click();
      await shown.waitFor({ state: 'detached' });
      await row.getByTestId('make-clip').click();
      await form.getByTestId('clip-start').fill('0:05');
      await form.scrollIntoViewIfNeeded();
      const small = await page.getByTestId('media').locator('button, input').evaluateAll((els) =>
        els.map((e) => ({ name: e.getAttribute('aria-label') || e.labels?.[0]?.textContent?.trim() || e.textContent?.trim(), box: e.getBoundingClientRect() }))
          .filter((e) => e.box.width > 0 && (!e.name || e.box.width < 48 || e.box.height < 48))
          .map((e) => `${e.name || '(unnamed)'} ${Math.round(e.box.width)}x${Math.round(e.box.height)}`));
      assert.deepEqual(small, []);
      await page.screenshot({ path: join(ARTIFACTS, 'media-1280x800.png') });
      if (updateDocs) await page.screenshot({ path: join(DOCS, 'media-1280x800.png') });
      await page.getByTestId('media').getByRole('button', { name: 'Close' }).click();
      assert.match(await text(page, 'transcodes'), /min/);
    });

    await step('offline: the header counts the queue; an order over the cap waits for approval on the Sync screen', async () => {
      // A booth whose hub cannot be reached (nothing listens on its port).
      const manifest = join(freshDataDir(), 'offline.toml');
      const example = await promisify(execFile)(nodeBinary(), ['manifest', 'example']);
      writeFileSync(manifest, example.stdout
        .replace(/^# booth = .*$/m, 'booth = "stand-14"')
        .replace(/^# credential = .*$/m, 'credential = "not-checked-while-the-hub-is-unreachable"')
        .replace(/^upstream = .*$/m, 'upstream = "http://127.0.0.1:9/api/v1/"')
        .replace(/^(\[offline\][^[]*?^)max_order = .*$/m, '$1max_order = 5000'));
      const booth = await startNode({ dataDir: freshDataDir(), manifest });
      const other = await openDashboard(browser, booth.url, { token: OPERATOR_TOKEN, acceptDownloads: true });
      try {
        await eventually('the offline chip', async () => /^Offline — 0 orders queued/.test(await text(other, 'mode')), 10_000);
        await placeOrder(booth.url, [{ sku: 'TOTE', qty: 2 }]);
        await eventually('the queue in the header', async () => /^Offline — 1 order queued/.test(await text(other, 'mode')), 5000);

        // Over the cap: the kiosk is refused in words; staff approve on the Sync screen;
        // the kiosk sends the same order again and it is taken.
        const quote = await (await fetch(`${booth.url}/api/v1/quotes`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lines: [{ sku: 'TOTE', qty: 6 }], tier: null }),
        })).json();
        const kiosk = await enrollKiosk(booth.url, OPERATOR_TOKEN);
        const send = () => fetch(`${booth.url}/api/v1/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `big-${process.pid}`, 'x-boothcloud-kiosk': kiosk },
          body: JSON.stringify({ quote_token: quote.token, payment: { method: 'card' } }),
        });
        const refused = await send();
        assert.equal(refused.status, 403);
        assert.match((await refused.json()).error.message, /over the offline limit of 50\.00 EUR per order/);
        await other.getByTestId('mode').click();
        await other.getByTestId('sync').waitFor();
        assert.match(await text(other, 'sync-detail'), /uplink is down/);
        const approval = other.getByTestId('approval');
        await approval.waitFor();
        assert.match(await approval.innerText(), /€54\.00[\s\S]*over the offline limit/);
        assert.match(await text(other, 'runway-table'), /each order[\s\S]*price list/i);
        await other.screenshot({ path: join(ARTIFACTS, 'sync-1280x800.png') });
        if (updateDocs) await other.screenshot({ path: join(DOCS, 'sync-1280x800.png') });
        await other.getByTestId('approve').click();
        await eventually('approved', async () => /Approved/.test(await approval.innerText()), 5000);
        assert.equal((await send()).status, 201);
        await eventually('two waiting', async () => (await text(other, 'sync-queue')) === '2', 5000);
        // In a browser, saving is a download: the screen says it started, never "saved".
        const download = other.waitForEvent('download');
        await other.getByTestId('export-unsynced').click();
        const file = await download;
        assert.equal(file.suggestedFilename(), 'unsynced-orders.json');
        const exported = JSON.parse(readFileSync(await file.path(), 'utf8'));
        assert.equal(exported.length, 2, 'both waiting orders are in the file');
        assert.equal(await text(other, 'export-message'), 'Download started — check your downloads folder.');
        await other.getByTestId('route').filter({ hasText: 'Offline only' }).click();
        await eventually('offline only chosen', async () => /Now: Offline only/.test(await other.getByTestId('sync').innerText()), 5000);
        // Both control actions are in the audit log, from this browser.
        await eventually('the audit log', async () => {
          const log = await text(other, 'audit');
          return /Failover: auto → offline, by hand from a browser/.test(log) && /Approve offline order: quote .*5400 EUR/.test(log);
        }, 5000);
      } finally {
        await other.close();
        await booth.stop();
      }
    });

    await step('the controls: a mode in one tap, a way upstream in one tap, a runbook by dry run then a hold', async () => {
      const controls = async () => (await fetch(`${url}/api/v1/ops/controls`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).json();
      await page.getByTestId('level-reduced').click();
      await eventually('reduced on screen', async () => (await text(page, 'current-level')) === 'Reduced', 5000);
      assert.match(await text(page, 'level-effects'), /Clips at reduced quality[\s\S]*Paused: charts[\s\S]*Quotes, orders and the storefront keep working/);
      assert.equal((await controls()).level, 'reduced');
      await page.getByTestId('path-offline').click();
      await eventually('offline on screen', async () => (await text(page, 'current-path')) === 'Offline only', 5000);
      assert.equal((await controls()).path, 'offline');

      await page.getByTestId('open-runbooks').click();
      const sheet = page.getByTestId('runbooks');
      await sheet.waitFor();
      const clear = sheet.getByTestId('runbook').filter({ hasText: 'All clear' });
      await clear.getByTestId('dry-run').click();
      await eventually('the dry run', async () => /degrade normal — reduced → normal · would change/.test(await clear.getByTestId('run-report').innerText()), 5000);
      assert.match(await clear.getByTestId('run-report').innerText(), /failover auto — offline → auto · would change/);
      assert.equal((await controls()).level, 'reduced', 'a dry run changes nothing');
      const run = clear.getByTestId('run-runbook');
      await run.scrollIntoViewIfNeeded();
      await run.click();
      assert.equal((await controls()).level, 'reduced', 'a tap runs nothing');
      const box = await run.boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.waitForTimeout(2400);
      await page.mouse.up();
      await eventually('the runbook ran', async () => {
        const c = await controls();
        return c.level === 'normal' && c.path === 'auto';
      }, 5000);
      await eventually('the audit says who and why', async () =>
        /Degrade: reduced → normal, by the all-clear runbook, run by hand from a browser/.test(await text(page, 'runbooks-audit')), 5000);
      assert.match(await text(page, 'runbooks-audit'), /Degrade: normal → reduced, by hand from a browser/);
      await page.screenshot({ path: join(ARTIFACTS, 'runbooks-1280x800.png') });
      if (updateDocs) await page.screenshot({ path: join(DOCS, 'runbooks-1280x800.png') });
      await sheet.getByRole('button', { name: 'Close' }).click();
      await eventually('back on the booth screen', async () => (await text(page, 'current-level')) === 'Normal', 5000);
    });

    await timeSteps(browser);

    await step('every control is at least 48 px and has a name', async () => {
      const small = await page.locator('button, input, [role=button]').evaluateAll((els) =>
        els
          .map((e) => ({ name: e.getAttribute('aria-label') || e.labels?.[0]?.textContent?.trim() || e.textContent?.trim(), box: e.getBoundingClientRect() }))
          .filter((e) => !e.name || e.box.width < 48 || e.box.height < 48)
          .map((e) => `${e.name || '(unnamed)'} ${Math.round(e.box.width)}x${Math.round(e.box.height)}`),
      );
      assert.deepEqual(small, []);
    });

    await step('survives a node restart and reconnects by itself', async () => {
      const orders = Number(await text(page, 'orders-today-value'));
      await node.stop();
      await eventually('the paused banner', async () => (await text(page, 'feed')).includes('reconnecting'), 10_000);
      node = await startNode({ dataDir, listen });
      const t0 = Date.now();
      await eventually('live again', async () => (await text(page, 'feed')).includes('Live'), 15_000);
      console.log(`     reconnected ${Date.now() - t0} ms after the node was back`);
      assert.equal(await text(page, 'orders-today-value'), String(orders), 'orders survive the restart');
      await placeOrder(url);
      await eventually('one more order on screen', async () => (await text(page, 'orders-today-value')) === String(orders + 1), 5000);
    });

    await step('screenshots: 1920x1080 and 1280x800, light and dark', async () => {
      if (updateDocs) mkdirSync(DOCS, { recursive: true });
      for (const theme of ['light', 'dark']) {
        const current = await page.evaluate(() => document.documentElement.dataset.theme);
        if (current !== theme) await page.getByTestId('theme').click();
        for (const [w, h] of [[1920, 1080], [1280, 800]]) {
          await page.setViewportSize({ width: w, height: h });
          await page.evaluate(() => window.scrollTo(0, 0));
          await page.waitForTimeout(300);
          const name = `booth-${w}x${h}-${theme}.png`;
          await page.screenshot({ path: join(ARTIFACTS, name) });
          if (updateDocs) await page.screenshot({ path: join(DOCS, name) });
        }
      }
    });

    // Last: teardown stops the node.
    await step('teardown: a 3-second hold, it stops and asks for a folder, continues, and the node stops by itself', async () => {
      const current = await page.evaluate(() => document.documentElement.dataset.theme);
      if (current !== 'light') await page.getByTestId('theme').click();
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.getByTestId('open-teardown').click();
      const sheet = page.getByTestId('teardown');
      await sheet.getByTestId('teardown-step-stop').waitFor();
      assert.equal(await sheet.getByTestId('teardown-steps').locator('li').count(), 8);
      assert.equal(await sheet.getByTestId('choose-folder').count(), 0, 'a browser may be on another machine: no folder chooser');
      const folder = sheet.getByTestId('export-dir');
      assert.match(await folder.inputValue(), /Boothcloud exports\/harbour-lights-2026$/, 'a folder is suggested');
      await folder.fill('');
      const hold = (id, ms) => holdDown(page, sheet.getByTestId(id), ms);
      await hold('start-teardown', 1500);
      const view = async () => (await fetch(`${url}/api/v1/ops/teardown`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).json();
      assert.equal((await view()).state, 'not_started', 'a hold shorter than 3 s does nothing');
      await hold('start-teardown', 3400);
      await eventually('stopped for a folder', async () => (await view()).state === 'blocked', 20_000);
      await eventually('it says so in words', async () => /waiting for you: .*choose an export folder/.test(await text(page, 'teardown-summary')), 5000);
      const quote = await fetch(`${url}/api/v1/quotes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lines: [{ sku: 'TOTE', qty: 1 }] }) });
      assert.equal(quote.status, 410, 'kiosks hear the booth is closed');
      assert.equal((await quote.json()).error.code, 'booth_closed');
      await eventually('the header says the booth is closed', async () => (await text(page, 'mode')) === 'Closed — teardown', 5000);
      await page.screenshot({ path: join(ARTIFACTS, 'teardown-1280x800.png') });
      if (updateDocs) await page.screenshot({ path: join(DOCS, 'teardown-1280x800.png') });

      const exportDir = freshDataDir();
      await folder.fill(exportDir);
      await hold('continue-teardown', 3400);
      await eventually('the node stopped by itself', async () => node.exitCode() !== null, 60_000);
      assert.equal(node.exitCode(), 0);
      await eventually('the screen says so', async () => (await sheet.getByTestId('teardown-stopped').count()) === 1, 10_000);
      await page.screenshot({ path: join(ARTIFACTS, 'teardown-finished-1280x800.png') });
      assert.equal(await sheet.getByTestId('teardown-step-stop').getAttribute('data-state'), 'done');
      const report = readFileSync(join(exportDir, 'harbour-lights-2026-report', 'report.html'), 'utf8');
      assert.match(report, /<img src="latency.png"/);
      assert.match(report, /Teardown started by<\/td><td>operator \(dashboard\)/);
    });
  } finally {
    await browser.close();
    await node.stop();
  }
}

main()
  .then(() => {
    console.log(`browser tests: ${results.length} passed, 0 failed`);
  })
  .catch((e) => {
    if (!results.some((r) => !r.ok)) console.log(`FAIL before the first step: ${e.stack ?? e}`);
    const failed = results.filter((r) => !r.ok).length || 1;
    console.log(`browser tests: ${results.filter((r) => r.ok).length} passed, ${failed} failed`);
    process.exit(1);
  });
