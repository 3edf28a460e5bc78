// A kiosk selling without the laptop, in Chromium against a real node:
//   pricing: the node's engine compiled to WebAssembly pricing a 10-line basket (each
//     call timed in the page), beside the alternative in the same run, the node's own
//     quote over HTTPS from the same page;
//   queue: taking orders offline into IndexedDB (limits, pickup number, kept `strict`);
//   delivery: 500 orders taken offline delivered to the node one after the other, as a
//     kiosk does once the laptop is back, beside placing orders online (quote + order).
// The page runs the shop's own modules (src/shop/offline/, src/api/), bundled here with
// esbuild and served to the page on its origin; nothing in the app is exposed for it.
//
// Run: `npm run bench:kiosk-offline` in ui/ after building the node (BOOTHCLOUD_NODE_BIN
// picks another binary). Prints Markdown tables for BENCHMARKS.md.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { enrollKiosk, exampleManifest, freshDataDir, OPERATOR_TOKEN, startNode } from '../tests/node-process.mjs';

const UI = resolve(import.meta.dirname, '..');
const PRICINGS = Number(process.env.PRICINGS ?? 1000);
const ORDERS = Number(process.env.ORDERS ?? 500);
const ONLINE = Number(process.env.ONLINE ?? 100);

// The shop's modules for the page, as one ES module; the engine's `.wasm` is served
// beside it (its `?url` import, which Vite resolves in the app, points there).
const bundle = await build({
  stdin: {
    contents: `
      export { PriceEngine } from './src/shop/offline/engine.ts';
      export { openKioskStore } from './src/shop/offline/store.ts';
      export { keepKit } from './src/shop/offline/kit.ts';
      export { takeOrder, deliveryQueue, listQueue } from './src/shop/offline/queue.ts';
      export { deliverWaiting } from './src/shop/offline/delivery.ts';
      export { chargedOf } from './src/shop/offline/rules.ts';
      export { SellingApi } from './src/api/selling-api.ts';
      export { NodeClient } from './src/api/node-client.ts';`,
    resolveDir: UI,
    sourcefile: 'bench-entry.ts',
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  write: false,
  logLevel: 'silent',
  plugins: [{
    name: 'wasm-url',
    setup(b) {
      b.onResolve({ filter: /\.wasm\?url$/ }, (a) => ({ path: a.path, namespace: 'wasm-url' }));
      b.onLoad({ filter: /.*/, namespace: 'wasm-url' }, () => ({ contents: 'export default "/__bench/engine.wasm";', loader: 'js' }));
    },
  }],
});
const moduleText = bundle.outputFiles[0].text;
const wasm = readFileSync(resolve(UI, 'src/pricing/engine/boothcloud_pricing_bg.wasm'));

// Room for the run: a kiosk may hold ORDERS orders and their money.
const manifest = await exampleManifest((text) => text
  .replace(/^max_orders = \d+/m, `max_orders = ${Math.max(ORDERS, 50)}`)
  .replace(/^max_total = \d+/m, 'max_total = 1000000000'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--ignore-certificate-errors', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const node = await startNode({ dataDir: freshDataDir(), manifest });

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1] };
};
const ms = (x) => (x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x.toFixed(1));

let result;
try {
  const key = await enrollKiosk(node.url, OPERATOR_TOKEN, 'bench kiosk');
  // No service worker, no kiosk key in the page's storage: the shop runs as a phone
  // (no till of its own), and the bench drives the kiosk's modules itself.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, serviceWorkers: 'block' });
  const page = await context.newPage();
  await page.route('**/__bench/**', (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/__bench/offline.js') return route.fulfill({ body: moduleText, contentType: 'text/javascript' });
    if (path === '/__bench/engine.wasm') return route.fulfill({ body: wasm, contentType: 'application/wasm' });
    return route.fulfill({ status: 404 });
  });
  // Cross-origin isolated (the bench adds the headers), so performance.now() is fine
  // enough (5 µs, not 100 µs) to time one pricing call.
  await page.route(`${node.url}/shop/`, async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers(), 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    return route.fulfill({ response, headers });
  });
  await page.goto(`${node.url}/shop/`);
  assert.ok(await page.evaluate(() => crossOriginIsolated), 'the bench page is cross-origin isolated');
  result = await page.evaluate(async ({ key, PRICINGS, ORDERS, ONLINE }) => {
    const m = await import('/__bench/offline.js');
    const api = new m.SellingApi(new m.NodeClient('', () => ({ 'x-boothcloud-kiosk': key }), 8000));
    const kit = await api.offlineKit();

    // Pricing: 10 lines, promotions in play (bundle, 3 for 2, per-mug, basket).
    const basket = [
      ['TEE-M', 1], ['BEANIE', 1], ['STICKER-LIGHTHOUSE', 2], ['STICKER-SHIP', 1], ['MUG-GLOW', 2],
      ['MUG-CLASSIC', 1], ['TOTE', 1], ['PIN-ANCHOR', 3], ['POSTCARD-SET', 1], ['SCARF', 1],
    ].map(([sku, qty]) => ({ sku, qty }));
    const t0 = performance.now();
    const engine = await m.PriceEngine.load(kit.price_book, kit.price_book_digest);
    const load = performance.now() - t0;
    for (let i = 0; i < 50; i += 1) engine.price(basket, Date.now());
    const wasm = [];
    const batch0 = performance.now();
    for (let i = 0; i < PRICINGS; i += 1) {
      const s = performance.now();
      engine.price(basket, Date.now());
      wasm.push(performance.now() - s);
    }
    const wasmBatch = (performance.now() - batch0) / PRICINGS;
    const quotes = [];
    for (let i = 0; i < 100; i += 1) {
      const s = performance.now();
      await api.quote({ lines: basket });
      quotes.push(performance.now() - s);
    }

    // The queue: ORDERS orders taken offline, as the till takes them.
    const db = await m.openKioskStore();
    await m.keepKit(db, kit, Date.now());
    const small = [[{ sku: 'TOTE', qty: 1 }], [{ sku: 'TEE-M', qty: 1 }, { sku: 'BEANIE', qty: 1 }], [{ sku: 'STICKER-GULL', qty: 3 }]];
    const takes = [];
    let taken = 0;
    for (let i = 0; i < ORDERS; i += 1) {
      const lines = small[i % small.length];
      const s = performance.now();
      const priced = engine.price(lines, Date.now());
      const r = await m.takeOrder(db, {
        total: priced.total,
        method: 'card',
        now: Date.now(),
        build: (_kept, pickup) => ({
          idempotency_key: crypto.randomUUID(), price_book: engine.digest, basket: { lines, tier: null }, charged: m.chargedOf(priced),
          payment: 'card', reference: `BENCH ${i}`, pickup, taken_at: new Date().toISOString(),
        }),
      });
      takes.push(performance.now() - s);
      if (r.ok) taken += 1;
      else throw new Error(`not taken: ${JSON.stringify(r)}`);
    }

    // Delivery of the whole queue, one at a time, in order.
    const d0 = performance.now();
    const run = await m.deliverWaiting(m.deliveryQueue(db), api);
    const delivery = performance.now() - d0;
    const left = (await m.listQueue(db)).length;

    // The alternative: the same number of online orders (quote + order), one after the other.
    // (Items whose stock is not counted: the offline orders above took the tees' stock.)
    const unstocked = [[{ sku: 'TOTE', qty: 1 }], [{ sku: 'PIN-ANCHOR', qty: 1 }, { sku: 'STICKER-SHIP', qty: 1 }], [{ sku: 'STICKER-GULL', qty: 3 }]];
    const o0 = performance.now();
    for (let i = 0; i < ONLINE; i += 1) {
      const q = await api.quote({ lines: unstocked[i % unstocked.length] });
      await api.placeOrder(crypto.randomUUID(), { quote_token: q.token, payment: { method: 'card', reference: `ONLINE ${i}` } });
    }
    const online = performance.now() - o0;
    return { load, wasm, wasmBatch, quotes, takes, taken, run, delivery, left, online };
  }, { key, PRICINGS, ORDERS, ONLINE });
  await context.close();

  assert.equal(result.taken, ORDERS);
  assert.equal(result.run.kind, 'empty', JSON.stringify(result.run));
  assert.equal(result.run.delivered, ORDERS);
  assert.equal(result.left, 0);
  // Every order once: those delivered and those placed online, and no more.
  let count = 0;
  let before = null;
  do {
    const page = await fetch(`${node.url}/api/v1/ops/orders?limit=200${before ? `&before=${encodeURIComponent(before)}` : ''}`, {
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    assert.equal(page.status, 200);
    const body = await page.json();
    count += body.orders.length;
    before = body.next_before ?? null;
  } while (before);
  assert.equal(count, ORDERS + ONLINE, 'every order at the node once');
} finally {
  await browser.close();
  await node.stop();
}

const w = stats(result.wasm);
const q = stats(result.quotes);
const t = stats(result.takes);
console.log(`| pricing a 10-line basket in Chromium (${PRICINGS} calls, each timed; quote: 100) | median | p99 | mean | max |`);
console.log('|---|---|---|---|---|');
console.log(`| kiosk: WebAssembly engine, \`price()\` with JSON in and out | ${ms(w.median)} ms | ${ms(w.p99)} ms | ${ms(result.wasmBatch)} ms | ${ms(w.max)} ms |`);
console.log(`| alternative: the node's quote over HTTPS (\`POST /api/v1/quotes\`) | ${ms(q.median)} ms | ${ms(q.p99)} ms | ${ms(q.mean)} ms | ${ms(q.max)} ms |`);
console.log(`| loading the engine (compile + price book, once) | ${ms(result.load)} ms | | | |`);
console.log('');
console.log(`| offline orders (${ORDERS}) | figure |`);
console.log('|---|---|');
console.log(`| take one offline (price + IndexedDB transaction, strict), median / p99 | ${ms(t.median)} ms / ${ms(t.p99)} ms |`);
console.log(`| deliver ${ORDERS} queued orders to the node, one at a time | ${(result.delivery / 1000).toFixed(2)} s (${ms(result.delivery / ORDERS)} ms per order, ${(ORDERS / (result.delivery / 1000)).toFixed(0)} orders/s) |`);
console.log(`| alternative: ${ONLINE} orders placed online (quote + order), one at a time | ${(result.online / 1000).toFixed(2)} s (${ms(result.online / ONLINE)} ms per order) |`);
