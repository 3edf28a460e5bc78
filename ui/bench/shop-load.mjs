// The shop's load to interactive in Chromium, against a real node: the first visit
// (nothing cached), a warm visit through the service worker, the same with the network
// cut, and — the alternative in the same run — a warm visit with the service worker
// blocked (the browser's HTTP cache only, as on a phone on the plain port).
// "Interactive": the first product's Add button is visible and enabled.
//
// Run: `npm run bench:shop` in ui/ after building the UI and the node. Prints a Markdown
// table for BENCHMARKS.md.

import { chromium } from 'playwright-core';
import { freshDataDir, startNode } from '../tests/node-process.mjs';

const RUNS = Number(process.env.RUNS ?? 15);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--ignore-certificate-errors', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const node = await startNode({ dataDir: freshDataDir() });
const shop = `${node.url}/shop/`;

async function interactive(page, go) {
  const t0 = performance.now();
  await go();
  await page.locator('[data-testid="product"] [data-testid="add"]:enabled').first().waitFor();
  return performance.now() - t0;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p90: at(0.9), min: s[0], max: s[s.length - 1] };
};

const viewport = { width: 1080, height: 1350 };
const rows = [];
try {
  // First visit: a fresh browser profile each time.
  const first = [];
  for (let i = 0; i < RUNS; i += 1) {
    const ctx = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    first.push(await interactive(page, () => page.goto(shop)));
    await ctx.close();
  }
  rows.push(['first visit (nothing cached)', stats(first)]);

  // Warm, through the service worker (installed on the first visit).
  const ctx = await browser.newContext({ viewport, ignoreHTTPSErrors: true });
  const page = await ctx.newPage();
  await page.goto(shop);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.reload();
  await page.locator('[data-testid="product"]').first().waitFor();
  const warm = [];
  for (let i = 0; i < RUNS; i += 1) warm.push(await interactive(page, () => page.reload()));
  rows.push(['warm visit, service worker', stats(warm)]);
  await ctx.setOffline(true);
  const offline = [];
  for (let i = 0; i < RUNS; i += 1) offline.push(await interactive(page, () => page.reload()));
  rows.push(['warm visit, service worker, network cut', stats(offline)]);
  await ctx.close();

  // The alternative: the browser's HTTP cache alone.
  const plain = await browser.newContext({ viewport, ignoreHTTPSErrors: true, serviceWorkers: 'block' });
  const p2 = await plain.newPage();
  await p2.goto(shop);
  await p2.locator('[data-testid="product"]').first().waitFor();
  const cached = [];
  for (let i = 0; i < RUNS; i += 1) cached.push(await interactive(p2, () => p2.reload()));
  rows.push(['warm visit, HTTP cache only (no service worker)', stats(cached)]);
  await plain.close();
} finally {
  await browser.close();
  await node.stop();
}

console.log(`| shop at 1080×1350, to the first enabled Add button (${RUNS} runs) | median | p90 | min–max |`);
console.log('|---|---|---|---|');
for (const [what, s] of rows) {
  console.log(`| ${what} | ${s.median.toFixed(0)} ms | ${s.p90.toFixed(0)} ms | ${s.min.toFixed(0)}–${s.max.toFixed(0)} ms |`);
}
