// The selling faces, served by a real headless node, driven in Debian's Chromium: a
// kiosk purchase with a promotion and a card on the terminal (pickup number, receipt QR,
// the receipt page turning "Ready" when the counter marks it), the pickup board
// following, a phone ordering ahead on the plain-HTTP port, a counter sale with a staff
// PIN at crew prices in cash, a refund, the service worker serving the shop with the
// network cut, and a checkout whose answer was lost retried with the same key.
//
// Run: `node tests/selling.mjs` after building the UI and the node (scripts/test does).
// Screenshots go to ../target/artifacts/ (and to ../docs/screenshots/ with --screenshots).

import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { journey } from './journey.mjs';
import { startEscposPrinter } from './escpos-printer.mjs';
import { enrollKiosk, eventually, exampleManifest, freshDataDir, OPERATOR_TOKEN, startNode } from './node-process.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const { step, shot, finish } = journey(ROOT);

const KIOSK = { width: 1080, height: 1350 };
const PHONE = { width: 390, height: 844 };
const COUNTER = { width: 1280, height: 800 };

const text = (page, id) => page.getByTestId(id).first().innerText();

async function api(url, path, { method = 'GET', token, body, headers = {} } = {}) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

async function newPage(browser, viewport, extra = {}) {
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true, ...extra });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

async function signIn(page, name, pin) {
  await page.getByTestId('signin-name').fill(name);
  for (const d of pin) await page.getByTestId(`key-${d}`).click();
  await page.getByTestId('sign-in-submit').click();
  await page.getByTestId('counter').waitFor();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--ignore-certificate-errors', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
// The demo, with a receipts printer (the tests play it on TCP 9100): a kiosk offers
// "Print a receipt".
const till = await startEscposPrinter();
const manifest = await exampleManifest((text) => `${text}
[[printers]]
name = "till"
uri = "socket://127.0.0.1:${till.port}"
role = "receipts"
paper = "58mm"
`);
const node = await startNode({ dataDir: freshDataDir(), manifest });
try {
  const added = await api(node.url, '/api/v1/ops/staff', { method: 'POST', token: OPERATOR_TOKEN, body: { name: 'Ana', pin: '4821' } });
  assert.equal(added.status, 201);
  const kioskKey = await enrollKiosk(node.url, OPERATOR_TOKEN, 'front kiosk');

  const counter = await newPage(browser, COUNTER);
  await counter.page.goto(`${node.url}/counter/`);
  await signIn(counter.page, 'Ana', '4821');

  let kioskNumber;
  let receiptId;
  await step('a kiosk sells with a promotion and a card on the terminal; the receipt follows the counter', async () => {
    const { page } = await newPage(browser, KIOSK);
    await page.goto(`${node.url}/shop/?kiosk=${kioskKey}`);
    await page.getByTestId('shop').waitFor();
    assert.equal(await page.getByTestId('shop').getAttribute('data-mode'), 'kiosk');
    assert.ok(!page.url().includes('kiosk='), 'the key leaves the address bar');
    await page.getByTestId('category-stickers').click();
    for (let i = 0; i < 3; i += 1) await page.getByRole('button', { name: 'Add Sticker: lighthouse' }).click();
    await eventually('the promotion in the basket', async () => (await page.getByTestId('discount').count()) > 0);
    assert.match(await text(page, 'discounts'), /buy 2, get 1 free/i);
    assert.match(await text(page, 'basket-total'), /6[.,]00/);
    await shot(page, 'shop-kiosk-1080x1350');
    await page.getByTestId('checkout').click();
    await page.getByTestId('pay-card').check();
    await page.getByTestId('card-reference').fill('AUTH 4417');
    await page.getByTestId('confirm-order').click();
    kioskNumber = (await text(page, 'pickup-number')).trim();
    assert.match(kioskNumber, /^A-\d{3}$/);
    const qr = await page.getByTestId('receipt-qr').getAttribute('src');
    receiptId = qr.match(/receipts\/([0-9a-z]{26})\/qr\.svg/)[1];
    await shot(page, 'shop-kiosk-confirmation-1080x1350');
    await page.getByTestId('print-receipt').click();
    await page.getByTestId('receipt-printing').waitFor();
    const [printed] = await till.waitForJobs(1);
    assert.ok(printed.includes(Buffer.from(kioskNumber)) && printed.includes(Buffer.from('RECEIPT')), 'the receipt of this order');
    assert.equal(await page.getByTestId('print-receipt').count(), 0, 'printed once: the button goes');

    const customer = await newPage(browser, PHONE);
    await customer.page.goto(`${node.plainUrl}/r/${receiptId}`);
    await eventually('the receipt says received', async () => /Received/.test(await text(customer.page, 'receipt-state')));
    assert.equal((await text(customer.page, 'receipt-pickup-number')).trim(), kioskNumber);

    await counter.page.getByTestId('tab-orders').click();
    const card = counter.page.locator(`[data-testid="counter-order"][data-pickup-number="${kioskNumber}"]`);
    await card.getByTestId('order-next').click();
    await eventually('preparing', async () => /Preparing/i.test(await card.getByTestId('order-state').innerText()));
    await card.getByTestId('order-next').click();
    await eventually('the receipt turns ready', async () => /Ready/.test(await text(customer.page, 'receipt-state')), 10_000);
    await shot(customer.page, 'receipt-phone-390x844');
    await shot(counter.page, 'counter-orders-1280x800');
    await customer.context.close();
  });

  await step('the pickup board shows the ready number, live', async () => {
    const { page, context } = await newPage(browser, { width: 1920, height: 1080 });
    await page.goto(`${node.plainUrl}/pickup/`);
    await eventually('ready on the board', async () => (await text(page, 'pickup-ready')).includes(kioskNumber), 10_000);
    await shot(page, 'pickup-board-1920x1080');
    await context.close();
  });

  let phoneNumber;
  await step('a phone orders ahead on the plain port and pays at pickup (card is not offered)', async () => {
    const { page, context } = await newPage(browser, PHONE);
    await page.goto(`${node.plainUrl}/shop/`);
    assert.equal(await page.getByTestId('shop').getAttribute('data-mode'), 'phone');
    await page.getByTestId('search').fill('cocoa');
    await page.getByRole('button', { name: 'Add Hot cocoa' }).click();
    // Happy hour (20% off drinks) may be on: any price will do.
    await eventually('a priced basket', async () => /\d[.,]\d\d/.test(await text(page, 'basket-total')));
    // Tapping "Add" scrolled the page; the picture shows it from the top, header and all.
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'shop-phone-390x844');
    await page.getByTestId('checkout').click();
    assert.equal(await page.getByTestId('pay-card').count(), 0, 'a phone cannot pay by card here');
    await page.getByTestId('confirm-order').click();
    phoneNumber = (await text(page, 'pickup-number')).trim();
    assert.match(phoneNumber, /^A-\d{3}$/);
    assert.notEqual(phoneNumber, kioskNumber);
    assert.match(await page.getByTestId('receipt-link').getAttribute('href'), /^\/r\/[0-9a-z]{26}$/);
    await shot(page, 'shop-phone-confirmation-390x844');
    await context.close();
  });

  await step('a counter sale: staff PIN, crew prices, cash with change due; then handed over and refunded', async () => {
    const page = counter.page;
    await page.getByTestId('tab-sell').click();
    const coffee = page.locator('[data-testid="item-tile"][data-sku="COFFEE"]').first();
    await coffee.click();
    await coffee.click();
    await eventually('a regular total', async () => /\d/.test(await text(page, 'counter-total')));
    const regular = await text(page, 'counter-total');
    await page.getByTestId('counter-tier').selectOption('crew');
    await eventually('crew prices', async () => (await text(page, 'counter-total')) !== regular);
    await page.getByTestId('pay-cash').check();
    await page.getByTestId('cash-tendered').fill('20');
    await eventually('change due', async () => /\d/.test(await text(page, 'change-due')));
    await shot(page, 'counter-sell-1280x800');
    await page.getByTestId('ring-up').click();
    const number = (await text(page, 'pickup-number')).trim();
    assert.match(await text(page, 'change-due-done'), /1[0-9][.,]\d\d/);
    await page.getByTestId('new-order').click();

    await page.getByTestId('tab-orders').click();
    const card = page.locator(`[data-testid="counter-order"][data-pickup-number="${number}"]`);
    for (const state of [/Preparing/i, /Ready/i]) {
      await card.getByTestId('order-next').click();
      await eventually(`${state}`, async () => state.test(await card.getByTestId('order-state').innerText()));
    }
    await card.getByTestId('order-next').click();
    await eventually('handed over', async () => (await card.count()) === 0);
    await page.getByTestId('orders-done').click();
    const done = page.locator(`[data-testid="counter-order"][data-pickup-number="${number}"]`);
    await done.getByTestId('order-refund').click().catch(async (e) => {
      await shot(page, 'counter-refund-missing');
      throw e;
    });
    await page.getByTestId('refund-amount').fill('1');
    await page.getByTestId('refund-reason').fill('coffee went cold');
    await page.getByTestId('refund-confirm').click();
    await eventually('the refund on the order', async () => (await done.innerText()).match(/1[.,]00/) !== null);
    const audit = await api(node.url, '/api/v1/ops/audit?limit=20', { token: OPERATOR_TOKEN });
    assert.ok(JSON.stringify(audit.body).includes('coffee went cold'), 'the refund is audited');
  });

  await step('the shop opens with the network cut once the service worker has it (HTTPS)', async () => {
    const { page, context } = await newPage(browser, KIOSK);
    await page.goto(`${node.url}/shop/`);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await page.reload();
    await page.getByTestId('product').first().waitFor();
    await eventually('a photo in the cache', async () => page.evaluate(async () => (await (await caches.open('shop-photos')).keys()).length > 0));
    await context.setOffline(true);
    await page.reload();
    await page.getByTestId('product').first().waitFor();
    const shown = await page.getByTestId('product').count();
    assert.ok(shown >= 10, `the catalogue from the cache: ${shown} products`);
    await context.close();
  });

  await step('a kiosk whose checkout answer was lost retries with the same key and shows one order', async () => {
    const { page, context } = await newPage(browser, KIOSK);
    let cut = 0;
    await page.route('**/api/v1/orders', async (route) => {
      if (route.request().method() === 'POST' && cut === 0) {
        cut += 1;
        await route.fetch(); // the node takes the order...
        return route.abort('connectionreset'); // ...and the answer never arrives
      }
      return route.continue();
    });
    await page.goto(`${node.url}/shop/?kiosk=${kioskKey}`);
    await page.getByRole('button', { name: 'Add Canvas tote bag' }).click();
    await eventually('a priced basket', async () => /9[.,]00/.test(await text(page, 'basket-total')));
    const before = (await api(node.url, '/api/v1/counter/orders', { token: OPERATOR_TOKEN })).body.orders.length;
    await page.getByTestId('checkout').click();
    await page.getByTestId('pay-card').check();
    await page.getByTestId('card-reference').fill('AUTH 99');
    await page.getByTestId('confirm-order').click();
    const number = (await page.getByTestId('pickup-number').innerText({ timeout: 30_000 })).trim();
    const after = (await api(node.url, '/api/v1/counter/orders', { token: OPERATOR_TOKEN })).body.orders;
    assert.equal(after.length, before + 1, 'one order, not two');
    assert.equal(after.filter((o) => o.pickup_number === number).length, 1);
    assert.equal(cut, 1);
    await context.close();
  });
} finally {
  await browser.close();
  await node.stop();
  await till.close();
}
finish('selling tests');
