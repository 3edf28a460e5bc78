// An enrolled kiosk keeps selling while the laptop is off (issue 31), against a real
// node stopped and started again on the same port and data folder, in Debian's Chromium:
//   a. the kiosk keeps its offline kit, the node stops, the page reloads with the
//      network gone (service worker and price engine from its caches), three orders are
//      sold offline (a bundle promotion, card and cash), each with a pickup number of
//      the kiosk's range, the banner counts them; the node starts again and takes each
//      exactly once, as the kiosk charged it, and the banner goes;
//   b. a delivery whose answer is lost is sent again and doubles nothing (and while
//      deliveries fail, the node and the Devices screen know what the kiosk holds);
//   c. past a limit the offline kiosk asks for staff instead of taking payment; a price
//      changed while the kiosk was offline: the order is taken as charged and the
//      counter shows it flagged for staff;
//   d. a phone with the node stopped keeps its basket and queues nothing;
//   e. an order confirmed online that gets no answer is taken over by the kiosk under
//      its own key: delivered when the node never had it, and when the node did have
//      it, refused (kept for staff) rather than made a second order.
//
// Run: `node tests/kiosk-offline.mjs` after building the UI and the node (the node
// embeds ui/dist when it is built). Screenshots go to ../target/artifacts/.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { journey } from './journey.mjs';
import { enrollKiosk, eventually, exampleManifest, freshDataDir, OPERATOR_TOKEN, startNode } from './node-process.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const { step, shot, finish } = journey(ROOT);

const KIOSK = { width: 1080, height: 1350 };
const PHONE = { width: 390, height: 844 };
const COUNTER = { width: 1280, height: 800 };

const text = (page, id) => page.getByTestId(id).first().innerText();
/** "€39.00" → 3900 (two-digit currencies). */
const minor = (shown) => Number(shown.replace(/[^\d]/g, ''));

async function api(url, path, { method = 'GET', token = OPERATOR_TOKEN, body, headers = {} } = {}) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

async function openOrders(url) {
  const r = await api(url, '/api/v1/counter/orders?view=open');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.orders;
}

function freePort() {
  return new Promise((done, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

/** A node on a fixed port and data folder, so the kiosk finds it again on the same origin. */
function booth(manifest) {
  const dataDir = freshDataDir();
  let listen;
  let node = null;
  return {
    get url() {
      return node.url;
    },
    async start() {
      listen ??= `127.0.0.1:${await freePort()}`;
      for (let tries = 0; ; tries += 1) {
        try {
          node = await startNode({ dataDir, listen, manifest, env: { BOOTHCLOUD_LISTEN_HTTP: '127.0.0.1:0' } });
          return;
        } catch (e) {
          if (tries >= 10) throw e; // The port may still be held by the last run for a moment.
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    async stop() {
      await node.stop();
    },
  };
}

/** A store of the kiosk's IndexedDB (`kit` or `queue`), or null before the page made it. */
function kioskStore(page, store) {
  return page.evaluate(async (store) => {
    const dbs = await indexedDB.databases();
    if (!dbs.some((d) => d.name === 'boothcloud-kiosk')) return null;
    return new Promise((done, fail) => {
      const open = indexedDB.open('boothcloud-kiosk');
      open.onerror = () => fail(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const all = db.transaction(store).objectStore(store).getAll();
        all.onerror = () => fail(all.error);
        all.onsuccess = () => {
          db.close();
          done(all.result);
        };
      };
    });
  }, store);
}

async function newPage(browser, viewport, extra = {}) {
  const context = await browser.newContext({ viewport, ignoreHTTPSErrors: true, ...extra });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

/** Opens the shop as a kiosk and waits until its kit is kept and its engine loaded. */
async function openKiosk(page, url, key) {
  await page.goto(`${url}/shop/?kiosk=${key}`);
  await page.getByTestId('product').first().waitFor();
  return eventually('the offline kit kept', async () => (await kioskStore(page, 'kit'))?.[0], 15_000);
}

async function add(page, search, name, times = 1) {
  await page.getByTestId('search').fill(search);
  for (let i = 0; i < times; i += 1) await page.getByRole('button', { name: `Add ${name}` }).click();
  await page.getByTestId('search').fill('');
}

/**
 * Sells what is in the basket offline: checkout, payment, confirm. Answers the pickup
 * number and the total the customer saw.
 */
async function sellOffline(page, pay, name, checkoutName) {
  const checkout = page.getByTestId('checkout');
  await eventually('priced by the kiosk itself', async () => checkout.isEnabled());
  await checkout.click();
  await page.getByTestId('offline-checkout-note').waitFor();
  const total = minor(await text(page, 'basket-total'));
  if (pay.card) {
    await page.getByTestId('pay-card').check();
    await page.getByTestId('card-reference').fill(pay.card);
  } else {
    await page.getByTestId('pay-cash').check();
    await page.getByTestId('cash-tendered').fill(pay.cash);
    await eventually('change due', async () => /Change due/.test(await text(page, 'change-due')));
  }
  if (checkoutName) await shot(page, checkoutName);
  await page.getByTestId('confirm-order').click();
  const done = page.getByTestId('confirmation');
  await done.waitFor();
  assert.equal(await done.getAttribute('data-offline'), 'true');
  assert.match(await text(page, 'receipt-later'), /receipt will be available once this kiosk reconnects/);
  const number = (await text(page, 'pickup-number')).trim();
  if (pay.cash) assert.match(await text(page, 'change-due-done'), /Change due/);
  if (name) await shot(page, name);
  await page.getByTestId('new-order').click();
  return { number, total };
}

function inRange(number, kit) {
  const m = number.match(/^([A-Z]+)-(\d{3,})$/);
  assert.ok(m, `a pickup number like A-007: ${number}`);
  assert.equal(m[1], kit.kit.pickup.prefix);
  const n = Number(m[2]);
  assert.ok(n >= kit.kit.pickup.first && n <= kit.kit.pickup.last, `${number} is in the kiosk's range ${kit.kit.pickup.first}–${kit.kit.pickup.last}`);
  return n;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--ignore-certificate-errors', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const manifest = await exampleManifest();
const node = booth(manifest);
await node.start();
try {
  const added = await api(node.url, '/api/v1/ops/staff', { method: 'POST', body: { name: 'Ana', pin: '4821' } });
  assert.equal(added.status, 201);
  const kioskKey = await enrollKiosk(node.url, OPERATOR_TOKEN, 'door kiosk');
  const kiosk = await newPage(browser, KIOSK);

  await step('a. the kiosk sells three orders with the laptop off; the node takes each once when it is back', async () => {
    const { page } = kiosk;
    const kit = await openKiosk(page, node.url, kioskKey);
    assert.equal(kit.kit.limits.methods.join(), 'card,cash');
    // The worker keeps the shop and, once it controls the page, the price engine.
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await eventually('the engine in the worker’s cache', async () => page.evaluate(async () => (await (await caches.open('shop-engine')).keys()).length > 0), 15_000);

    await node.stop();
    // With the laptop gone, the kiosk comes back from its caches and still prices.
    await page.reload();
    await page.getByTestId('product').first().waitFor();

    await add(page, 'tee', 'Harbour Lights tee (M)');
    await add(page, 'beanie', 'Knitted beanie');
    await eventually('the bundle priced by the kiosk', async () => (await page.getByTestId('discount').count()) > 0);
    assert.match(await text(page, 'discounts'), /Tee \+ beanie/);
    assert.equal(minor(await text(page, 'basket-total')), 3900);
    await eventually('the banner says the kiosk is offline', async () => /Kiosk offline/.test(await text(page, 'offline-banner')));
    const sold = [];
    sold.push(await sellOffline(page, { card: 'AUTH 1001' }));
    await add(page, 'tote', 'Canvas tote bag');
    sold.push(await sellOffline(page, { cash: '20' }, null, 'kiosk-offline-checkout-1080x1350'));
    await add(page, 'lighthouse', 'Sticker: lighthouse', 3);
    sold.push(await sellOffline(page, { card: 'AUTH 1003' }, 'kiosk-offline-confirmation-1080x1350'));
    assert.deepEqual(sold.map((s) => s.total), [3900, 900, 600]);

    const numbers = sold.map((s) => inRange(s.number, kit));
    assert.deepEqual(numbers, [numbers[0], numbers[0] + 1, numbers[0] + 2], 'numbers handed out one after the other');
    assert.ok(numbers[0] >= kit.kit.pickup.next);
    await eventually('the banner counts three', async () => /Kiosk offline: 3 orders waiting/.test(await text(page, 'offline-banner')));
    await shot(page, 'kiosk-offline-banner-1080x1350');
    assert.equal((await kioskStore(page, 'queue')).length, 3);

    await node.start();
    await eventually('the banner gone once delivered', async () => (await page.getByTestId('offline-banner').count()) === 0, 40_000);
    assert.deepEqual(await kioskStore(page, 'queue'), []);
    const orders = await openOrders(node.url);
    for (const s of sold) {
      const found = orders.filter((o) => o.pickup_number === s.number);
      assert.equal(found.length, 1, `${s.number} once`);
      assert.ok(found[0].taken_offline_by, `${s.number} is marked as taken offline`);
      assert.equal(found[0].total, s.total, `${s.number} as charged`);
      assert.ok(!found[0].attention, `${s.number} needs no look: ${found[0].attention}`);
    }
    const cash = orders.find((o) => o.pickup_number === sold[1].number);
    assert.equal(cash.payment, 'cash');
    assert.ok(cash.paid);
  });

  await step('b. a delivery whose answer is lost is sent again and doubles nothing', async () => {
    // Another kiosk (its own range of numbers), without a service worker: the test cuts
    // its deliveries on their way.
    const otherKey = await enrollKiosk(node.url, OPERATOR_TOKEN, 'bar kiosk');
    const { page, context } = await newPage(browser, KIOSK, { serviceWorkers: 'block' });
    const kit = await openKiosk(page, node.url, otherKey);
    // No worker keeps the engine here: the node stops only once the page has fetched it.
    await eventually('the engine fetched', async () => page.evaluate(() => performance.getEntriesByType('resource')
      .some((e) => /\/_app\/[\w.-]+\.wasm$/.test(new URL(e.name).pathname) && e.responseEnd > 0)));
    await node.stop();
    await add(page, 'tote', 'Canvas tote bag');
    const first = await sellOffline(page, { card: 'AUTH 2001' });
    await add(page, 'anchor', 'Enamel pin: anchor');
    const second = await sellOffline(page, { card: 'AUTH 2002' });
    inRange(first.number, kit);
    inRange(second.number, kit);
    const queued = await kioskStore(page, 'queue');
    assert.equal(queued.length, 2);
    const secondKey = queued[1].body.idempotency_key;

    let refuseAll = true;
    let cut = 0;
    const posted = [];
    await page.route('**/api/v1/kiosk/offline-orders', async (route) => {
      const key = JSON.parse(route.request().postData()).idempotency_key;
      posted.push(key);
      if (refuseAll) return route.abort('connectionrefused');
      if (key === secondKey && cut === 0) {
        cut += 1;
        await route.fetch(); // the node takes it...
        return route.abort('connectionreset'); // ...and its answer is lost
      }
      return route.continue();
    });
    await node.start();
    // Deliveries fail; the kiosk still tells the node what it holds.
    const kiosks = await eventually('the node knows what the kiosk holds', async () => {
      const list = (await api(node.url, '/api/v1/ops/kiosks')).body;
      const mine = list?.find((k) => k.name === 'bar kiosk');
      return mine?.waiting_orders === 2 ? mine : null;
    }, 30_000);
    assert.equal(kiosks.waiting_total, first.total + second.total);
    const dash = await newPage(browser, COUNTER);
    await dash.page.goto(node.url);
    await dash.page.getByLabel('Operator token').fill(OPERATOR_TOKEN);
    await dash.page.getByRole('button', { name: 'Open dashboard' }).click();
    await dash.page.getByTestId('open-devices').click();
    const row = dash.page.getByTestId('kiosk').filter({ hasText: 'bar kiosk' });
    assert.match(await row.getByTestId('kiosk-waiting').innerText(), /2 orders waiting/);
    await row.scrollIntoViewIfNeeded();
    await shot(dash.page, 'devices-kiosk-waiting-1280x800');
    await dash.context.close();

    refuseAll = false;
    await eventually('the banner gone once delivered', async () => (await page.getByTestId('offline-banner').count()) === 0, 40_000);
    assert.equal(cut, 1, 'one answer was lost');
    assert.ok(posted.filter((k) => k === secondKey).length >= 2, 'the order whose answer was lost was sent again');
    const orders = await openOrders(node.url);
    for (const s of [first, second]) {
      assert.equal(orders.filter((o) => o.pickup_number === s.number).length, 1, `${s.number} once`);
    }
    assert.equal(orders.filter((o) => o.taken_offline_by && o.total === second.total && o.pickup_number === second.number).length, 1);
    await eventually('the kiosk says it holds nothing', async () => {
      const list = (await api(node.url, '/api/v1/ops/kiosks')).body;
      return list?.find((k) => k.name === 'bar kiosk')?.waiting_orders === 0;
    }, 30_000);
    await context.close();
  });

  await step('c. offline, past a limit the kiosk asks for staff; a changed price is taken as charged and flagged', async () => {
    const { page } = kiosk;
    await node.stop();
    // 6 × 29.00 is over the 150.00 a kiosk may take by itself: no payment, staff.
    await add(page, 'scarf', 'Lighthouse scarf', 6);
    await eventually('priced by the kiosk itself', async () => page.getByTestId('checkout').isEnabled());
    await page.getByTestId('checkout').click();
    const staff = page.getByTestId('offline-staff-needed');
    await staff.waitFor();
    assert.match(await staff.innerText(), /Please ask a member of staff\.\s+Orders over €150\.00 can't be taken while the booth is away\./);
    assert.equal(await page.getByTestId('payment').count(), 0, 'no payment is taken');
    assert.ok(await page.getByTestId('confirm-order').isDisabled());
    await shot(page, 'kiosk-offline-staff-1080x1350');
    await page.getByTestId('back-to-basket').click();
    await page.getByTestId('basket-clear').click();

    // The lead changes the tote's price on the laptop while the kiosk cannot see it.
    const before = readFileSync(manifest, 'utf8');
    const after = before.replace(/(sku = "TOTE"\nname = "Canvas tote bag"\nprice = )900/, '$11100');
    assert.notEqual(after, before, 'the tote’s price is in the manifest');
    writeFileSync(manifest, after);
    await add(page, 'tote', 'Canvas tote bag');
    const sold = await sellOffline(page, { card: 'AUTH 3001' });
    assert.equal(sold.total, 900, 'the kiosk charges the price it knows');
    await node.start();
    await eventually('delivered', async () => (await page.getByTestId('offline-banner').count()) === 0, 40_000);
    const order = (await openOrders(node.url)).find((o) => o.pickup_number === sold.number);
    assert.ok(order, `${sold.number} at the node`);
    assert.equal(order.total, 900, 'taken as charged');
    assert.match(order.attention ?? '', /price list changed while the kiosk was offline/);

    const counter = await newPage(browser, COUNTER);
    await counter.page.goto(`${node.url}/counter/`);
    await counter.page.getByTestId('signin-name').fill('Ana');
    for (const d of '4821') await counter.page.getByTestId(`key-${d}`).click();
    await counter.page.getByTestId('sign-in-submit').click();
    await counter.page.getByTestId('counter').waitFor();
    await counter.page.getByTestId('tab-orders').click();
    const card = counter.page.locator(`[data-testid="counter-order"][data-pickup-number="${sold.number}"]`);
    await card.waitFor();
    assert.match(await card.getByTestId('order-attention').innerText(), /Check this order: price list changed/);
    assert.equal(await card.getByTestId('order-offline').innerText(), 'Taken offline');
    await card.scrollIntoViewIfNeeded();
    await shot(counter.page, 'counter-offline-attention-1280x800');
    await counter.context.close();
  });

  await step('d. a phone with the laptop off keeps its basket and queues nothing', async () => {
    const { page, context } = await newPage(browser, PHONE);
    await page.goto(`${node.url}/shop/`);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await page.reload();
    assert.equal(await page.getByTestId('shop').getAttribute('data-mode'), 'phone');
    await add(page, 'tote', 'Canvas tote bag');
    await eventually('priced by the booth', async () => page.getByTestId('checkout').isEnabled());
    await node.stop();
    await page.reload();
    await page.getByTestId('basket-line').first().waitFor();
    assert.equal(await page.getByTestId('basket-line').count(), 1, 'the basket is kept');
    await eventually('the offline message', async () => /You're offline: your basket is kept/.test(await text(page, 'unreachable')), 20_000);
    assert.ok(await page.getByTestId('checkout').isDisabled(), 'no ordering while offline');
    assert.equal(await page.getByTestId('offline-banner').count(), 0);
    const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    assert.ok(!dbs.includes('boothcloud-kiosk'), `a phone keeps no offline queue: ${dbs}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'shop-phone-offline-390x844');
    await context.close();
    await node.start();
  });

  await step('e. an online order without an answer is taken over by the kiosk under its own key', async () => {
    const key = await enrollKiosk(node.url, OPERATOR_TOKEN, 'hall kiosk');
    const { page, context } = await newPage(browser, KIOSK, { serviceWorkers: 'block' });
    await openKiosk(page, node.url, key);
    // 'lost': the order reaches the node, its answer does not come back; 'refused': it
    // never reaches the node. Quotes still go through.
    let orders = 'lost';
    await page.route('**/api/v1/orders', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      if (orders === 'lost') {
        await route.fetch();
        return route.abort('connectionreset');
      }
      return route.abort('connectionrefused');
    });
    const confirmOnline = async (reference) => {
      await add(page, 'tote', 'Canvas tote bag');
      await eventually('priced by the booth', async () => page.getByTestId('checkout').isEnabled());
      await page.getByTestId('checkout').click();
      assert.equal(await page.getByTestId('offline-checkout-note').count(), 0, 'checkout online');
      await page.getByTestId('pay-card').check();
      await page.getByTestId('card-reference').fill(reference);
      await page.getByTestId('confirm-order').click();
      const done = page.getByTestId('confirmation');
      await done.waitFor({ timeout: 30_000 });
      assert.equal(await done.getAttribute('data-offline'), 'true', 'taken over by the kiosk');
      const number = (await text(page, 'pickup-number')).trim();
      await page.getByTestId('new-order').click();
      return number;
    };
    const before = (await openOrders(node.url)).length;

    const lostNumber = await confirmOnline('AUTH 5001');
    // The node took the first try: the kiosk's delivery under the same key is answered
    // with that order's receipt (one sale), and staff are told two numbers went out.
    await eventually('answered', async () => (await page.getByTestId('offline-banner').count()) === 0, 30_000);
    const after = await openOrders(node.url);
    assert.equal(after.length, before + 1, 'one order, not two');
    assert.equal(after.filter((o) => o.pickup_number === lostNumber).length, 0, 'the kiosk number is not a second order');
    const twin = after.filter((o) => (o.attention ?? '').includes(`also gave the customer ${lostNumber}`));
    assert.equal(twin.length, 1, 'the online order is marked for staff');

    orders = 'refused';
    const number = await confirmOnline('AUTH 5002');
    await eventually('delivered', async () => (await openOrders(node.url)).some((o) => o.pickup_number === number), 30_000);
    const found = (await openOrders(node.url)).filter((o) => o.pickup_number === number);
    assert.equal(found.length, 1);
    assert.ok(found[0].taken_offline_by);
    assert.equal((await openOrders(node.url)).length, before + 2);
    await context.close();
  });
  await kiosk.context.close();
} finally {
  await browser.close();
  await node.stop().catch(() => undefined);
}
finish('kiosk offline tests');
