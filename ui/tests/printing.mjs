// Printing, end to end: a real headless node with a tickets printer in its manifest, a
// fake ESC/POS printer on 127.0.0.1 (`escpos-printer.mjs`), and the counter and the
// dashboard in Debian's Chromium. An order prints its pickup ticket and the counter says
// "Printed"; Reprint at the counter prints a second copy marked REPRINT; with the paper
// out the Printers screen and the dashboard's notice say so, the order waits, and it
// prints once when the paper is back; after an outage longer than `backlog_after` the
// waiting ticket is held until the lead taps "Print 1 waiting ticket?".
//
// Run: `node tests/printing.mjs` after building the UI and the node (scripts/test does).
// BOOTHCLOUD_UI_DIST=dist serves the dashboard and the counter from that folder instead
// of the node's embedded copy (to try a UI build on a node built before it).
// Screenshots go to ../target/artifacts/ (and to ../docs/screenshots/ with --screenshots).

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { journey } from './journey.mjs';
import { startEscposPrinter } from './escpos-printer.mjs';
import { eventually, exampleManifest, freshDataDir, OPERATOR_TOKEN, placeOrder, startNode } from './node-process.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const UI_DIST = process.env.BOOTHCLOUD_UI_DIST ? resolve(process.env.BOOTHCLOUD_UI_DIST) : null;
const { step, shot, finish } = journey(ROOT);

const SCREEN = { width: 1280, height: 800 };
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml', '.wasm': 'application/wasm' };

async function api(url, path, { method = 'GET', token = OPERATOR_TOKEN, body } = {}) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

/** With BOOTHCLOUD_UI_DIST: the dashboard's and the counter's files from that folder. */
async function serveDist(page) {
  if (!UI_DIST) return;
  const ours = (u) => ['/', '/index.html', '/favicon.png', '/counter', '/counter/'].includes(u.pathname) || u.pathname.startsWith('/_app/');
  await page.route(ours, async (route) => {
    const { pathname } = new URL(route.request().url());
    const name = pathname === '/' ? 'index.html' : pathname.startsWith('/counter') ? 'counter.html' : pathname.slice(1);
    let body;
    try {
      body = readFileSync(join(UI_DIST, name));
    } catch {
      return route.fulfill({ status: 404, body: 'not in BOOTHCLOUD_UI_DIST' });
    }
    const headers = name.endsWith('.html')
      ? (await route.fetch()).headers()
      : { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream', 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };
    delete headers['content-length'];
    await route.fulfill({ status: 200, headers, body });
  });
}

async function newPage(browser, viewport = SCREEN) {
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await serveDist(page);
  return { context, page };
}

/** The manifest's printers and printing settings, after the demo's. */
const printing = (port, settings = '') => `
[[printers]]
name = "prep-table"
uri = "socket://127.0.0.1:${port}"
role = "tickets"
paper = "80mm"

[[printers]]
name = "bags"
uri = "socket://127.0.0.1:${bags.port}"
role = "labels"
${settings ? `\n[printing]\n${settings}\n` : ''}`;

const has = (job, text) => job.includes(Buffer.from(text, 'latin1'));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--ignore-certificate-errors', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const printer = await startEscposPrinter();
const bags = await startEscposPrinter();
let demo = '';
const manifest = await exampleManifest((text) => (demo = text) + printing(printer.port));
const node = await startNode({ dataDir: freshDataDir(), manifest });
try {
  assert.equal((await api(node.url, '/api/v1/ops/staff', { method: 'POST', body: { name: 'Ana', pin: '4821' } })).status, 201);

  const counter = await newPage(browser);
  await counter.page.goto(`${node.url}/counter/`);
  await counter.page.getByTestId('signin-name').fill('Ana');
  for (const d of '4821') await counter.page.getByTestId(`key-${d}`).click();
  await counter.page.getByTestId('sign-in-submit').click();
  await counter.page.getByTestId('tab-orders').click();
  const card = (number) => counter.page.locator(`[data-testid="counter-order"][data-pickup-number="${number}"]`);
  const jobRow = (number, copy) => card(number).locator(`[data-testid="print-job"][data-kind="ticket"][data-copy="${copy}"]`);

  const dashboard = await newPage(browser);
  await dashboard.page.goto(node.url);
  await dashboard.page.getByLabel('Operator token').fill(OPERATOR_TOKEN);
  await dashboard.page.getByRole('button', { name: 'Open dashboard' }).click();
  await dashboard.page.getByTestId('nav-printers').click();
  const printerCard = dashboard.page.locator('[data-testid="printer-card"][data-printer="prep-table"]');
  const cardText = async (id) => (await printerCard.getByTestId(id).innerText()).trim();

  let first;
  await step('an order prints its pickup ticket; the counter says Printed', async () => {
    first = await placeOrder(node.url);
    const [job] = await printer.waitForJobs(1);
    assert.ok(has(job, first.pickup_number), `the ticket carries ${first.pickup_number}`);
    assert.ok(!has(job, 'REPRINT'), 'an original is no reprint');
    const row = jobRow(first.pickup_number, 0);
    await eventually('Printed at the counter', async () => (await row.getByTestId('print-state').innerText()) === 'Printed');
    assert.equal(await row.getByTestId('print-what').innerText(), 'Pickup ticket');
    assert.equal(await row.getAttribute('data-state'), 'sent');
  });

  await step('Reprint at the counter prints a second copy marked REPRINT, shown as Reprint 1', async () => {
    await jobRow(first.pickup_number, 0).getByTestId('print-reprint').click();
    const jobs = await printer.waitForJobs(2);
    assert.ok(has(jobs[1], 'REPRINT'), 'the copy says REPRINT');
    assert.ok(has(jobs[1], first.pickup_number), 'the copy carries the pickup number');
    const again = jobRow(first.pickup_number, 1);
    await eventually('Reprint 1 printed at the counter', async () => (await again.getByTestId('print-state').innerText()) === 'Printed');
    assert.equal(await again.getByTestId('print-what').innerText(), 'Pickup ticket · Reprint 1');
    assert.match(await card(first.pickup_number).getByTestId('print-message').innerText(), /Reprint 1 is on its way/);
    const audit = await api(node.url, '/api/v1/ops/audit?limit=20');
    assert.ok(audit.body.some((e) => e.action === 'reprint'), 'the reprint is audited');
  });

  await step('Print receipt without a receipts printer says so', async () => {
    await card(first.pickup_number).getByTestId('print-receipt').click();
    await eventually('the no-printer message', async () =>
      /No printer prints receipts/.test(await card(first.pickup_number).getByTestId('print-message').innerText()));
    assert.equal(printer.jobs.length, 2, 'nothing printed');
  });

  await step('Print label prints the bag label once, and the button goes', async () => {
    const order = card(first.pickup_number);
    await order.getByTestId('print-label').click();
    const [label] = await bags.waitForJobs(1);
    assert.ok(has(label, first.pickup_number), `the label carries ${first.pickup_number}`);
    const row = order.locator('[data-testid="print-job"][data-kind="label"]');
    await eventually('the label printed', async () => (await row.count()) === 1 && (await row.getAttribute('data-state')) === 'sent');
    assert.equal(await order.getByTestId('print-label').count(), 0, 'no second label offered; Reprint is there for that');
    assert.equal(printer.jobs.length, 2, 'the prep printer printed nothing more');
  });

  await step('the Printers screen shows the printer ready, in words', async () => {
    await eventually('Ready', async () => (await cardText('printer-state')) === 'Ready');
    assert.equal(await cardText('printer-role'), 'Pickup tickets (prep table)');
    assert.equal(await cardText('printer-paper'), 'OK');
    assert.match(await cardText('printer-last'), /^\d\d:\d\d \(/);
    assert.equal(await dashboard.page.getByTestId('printer-notice').count(), 0, 'no notice while it prints');
  });

  let second;
  await step('paper out: Needs attention / Out of paper, the notice, the order waits; paper back: it prints once', async () => {
    printer.setPaperOut(true);
    second = await placeOrder(node.url);
    await eventually('Needs attention', async () => (await cardText('printer-state')) === 'Needs attention');
    await eventually('Out of paper', async () => (await cardText('printer-paper')) === 'Out of paper');
    assert.match(await cardText('printer-detail'), /out of paper/);
    await eventually('a ticket waiting', async () => (await cardText('printer-queued')) === '1');
    await shot(dashboard.page, 'printers-paper-out-1280x800');

    const waiting = jobRow(second.pickup_number, 0);
    await eventually('Waiting for printer at the counter', async () => (await waiting.getByTestId('print-state').innerText()) === 'Waiting for printer');
    assert.match(await waiting.getByTestId('print-why').innerText(), /out of paper/);
    assert.equal(await waiting.getByTestId('print-reprint').count(), 0, 'no reprint of a job still waiting');
    await counter.page.evaluate(() => window.scrollTo(0, 0));
    await shot(counter.page, 'counter-print-states-1280x800');

    await dashboard.page.getByTestId('nav-booth').click();
    const notice = dashboard.page.getByTestId('printer-notice');
    await notice.waitFor();
    assert.match(await notice.innerText(), /Printer needs attention[\s\S]*prep-table · Pickup tickets \(prep table\): .*out of paper/);
    assert.equal(await dashboard.page.getByTestId('nav-printers-attention').innerText().then((s) => s.trim().split(/\s/)[0].replace(/\D/g, '')), '1');
    await shot(dashboard.page, 'printer-notice-1280x800');
    await notice.getByTestId('open-printers').click();
    await printerCard.waitFor();
    assert.equal(await dashboard.page.getByTestId('printer-notice').count(), 0, 'the Printers screen says it itself');
    assert.equal(printer.jobs.length, 2, 'nothing printed without paper');

    printer.setPaperOut(false);
    const jobs = await printer.waitForJobs(3, 20_000);
    assert.ok(has(jobs[2], second.pickup_number), 'the waiting ticket printed');
    await eventually('Ready again', async () => (await cardText('printer-state')) === 'Ready', 10_000);
    assert.equal(await cardText('printer-paper'), 'OK');
    assert.equal(await cardText('printer-queued'), '0');
    await eventually('Printed at the counter', async () => (await waiting.getByTestId('print-state').innerText()) === 'Printed');
    await dashboard.page.getByTestId('nav-booth').click();
    await eventually('the notice gone', async () => (await dashboard.page.getByTestId('printer-notice').count()) === 0, 10_000);
    // Once: the worker's next looks find nothing more to send.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(printer.jobs.length, 3, 'printed once');
    await dashboard.page.getByTestId('nav-printers').click();
    await shot(dashboard.page, 'printers-1280x800');
  });

  await step('after an outage longer than backlog_after, the waiting ticket is held until the lead says print', async () => {
    writeFileSync(manifest, demo + printing(printer.port, 'backlog_after = "1s"'));
    const reloaded = await api(node.url, '/api/v1/ops/manifest/reload', { method: 'POST' });
    assert.equal(reloaded.status, 200, JSON.stringify(reloaded.body));
    printer.setPaperOut(true);
    const third = await placeOrder(node.url);
    await eventually('Needs attention', async () => (await cardText('printer-state')) === 'Needs attention');
    await new Promise((r) => setTimeout(r, 2500));
    printer.setPaperOut(false);
    const release = printerCard.getByTestId('printer-release');
    await release.waitFor({ timeout: 15_000 });
    assert.equal((await release.innerText()).trim(), 'Print 1 waiting ticket?');
    assert.equal(await cardText('printer-held'), '1');
    const held = jobRow(third.pickup_number, 0);
    await eventually('Held at the counter', async () => (await held.getByTestId('print-state').innerText()) === 'Held');
    await shot(dashboard.page, 'printers-held-1280x800');
    assert.equal(printer.jobs.length, 3, 'a held ticket waits for the lead');

    await release.click();
    const jobs = await printer.waitForJobs(4);
    assert.ok(has(jobs[3], third.pickup_number), 'the held ticket printed');
    assert.match(await dashboard.page.getByTestId('printers-message').innerText(), /1 waiting job goes to the printer now/);
    await eventually('Ready again', async () => (await cardText('printer-state')) === 'Ready', 10_000);
    assert.equal(await printerCard.getByTestId('printer-release').count(), 0);
    await eventually('Printed at the counter', async () => (await held.getByTestId('print-state').innerText()) === 'Printed');
    const audit = await api(node.url, '/api/v1/ops/audit?limit=20');
    assert.ok(audit.body.some((e) => e.action === 'print held jobs'), 'the release is audited');
  });

  await step('the counter asks about printed orders seldom, not at every poll', async () => {
    for (let i = 0; i < 5; i += 1) await placeOrder(node.url);
    await printer.waitForJobs(9);
    const cards = counter.page.getByTestId('counter-order');
    await eventually('8 orders at the counter', async () => (await cards.count()) === 8);
    const count = await cards.count();
    await eventually('every ticket printed at the counter', async () =>
      (await counter.page.locator('[data-testid="print-job"][data-kind="ticket"][data-state="sent"]').count()) === 9, 10_000);
    let asked = 0;
    const onRequest = (r) => {
      if (r.url().includes('/api/v1/ops/print-jobs?')) asked += 1;
    };
    counter.page.on('request', onRequest);
    await new Promise((r) => setTimeout(r, 7000));
    counter.page.off('request', onRequest);
    // Polled every 3 s that would be 8 orders × 2–3 polls; settled orders are asked
    // about once in 30 s.
    assert.ok(asked <= count, `${asked} asks in 7 s for ${count} settled orders`);
    console.log(`     ${asked} print-job asks in 7 s for ${count} printed orders`);
  });

  await step('the lead test-prints, pauses and resumes the printer, and sees its ticket', async () => {
    await dashboard.page.getByTestId('nav-printers').click();
    const before = printer.jobs.length;
    await printerCard.getByTestId('printer-test').click();
    const jobs = await printer.waitForJobs(before + 1);
    assert.ok(has(jobs[before], 'TEST') && has(jobs[before], 'Test print on prep-table'), 'a test page, not an order');
    assert.match(await dashboard.page.getByTestId('printers-message').innerText(), /A test page is on its way to prep-table/);

    await printerCard.getByTestId('printer-pause').click();
    await eventually('Paused', async () => (await cardText('printer-state')) === 'Paused');
    assert.match(await cardText('printer-paused'), /wait here until you resume/);
    assert.equal(await cardText('printer-pause'), 'Resume printing');
    const waiting = await placeOrder(node.url);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(printer.jobs.length, before + 1, 'nothing prints while paused');

    await printerCard.getByTestId('printer-preview-toggle').click();
    const img = printerCard.getByTestId('printer-preview');
    await eventually('the preview drawn', async () => (await img.count()) === 1 && (await img.evaluate((i) => i.complete && i.naturalWidth)) > 0);
    assert.equal(await img.evaluate((i) => i.naturalWidth), 576, 'drawn for 80 mm paper (576 dots)');
    await shot(dashboard.page, 'printers-paused-preview-1280x800');

    await printerCard.getByTestId('printer-pause').click();
    const after = await printer.waitForJobs(before + 2);
    assert.ok(has(after[before + 1], waiting.pickup_number), 'the waiting ticket printed once resumed');
    await eventually('Ready', async () => (await cardText('printer-state')) === 'Ready', 10_000);
    const audit = await api(node.url, '/api/v1/ops/audit?limit=40');
    for (const action of ['test print', 'pause printer', 'resume printer']) assert.ok(audit.body.some((e) => e.action === action), `${action} is audited`);
  });

  await step('touch targets on both screens are at least 48 px', async () => {
    for (const [page, selector] of [[counter.page, '[data-testid="order-prints"] button'], [dashboard.page, '[data-testid="printers"] button, [data-testid="nav-printers"]']]) {
      const small = await page.locator(selector).evaluateAll((buttons) => buttons
        .map((b) => ({ text: b.textContent.trim(), ...b.getBoundingClientRect().toJSON() }))
        .filter((r) => r.width > 0 && (r.height < 48 || r.width < 48)));
      assert.deepEqual(small, []);
    }
  });
} finally {
  await browser.close();
  await node.stop();
  await printer.close();
  await bags.close();
}
finish('printing tests');
