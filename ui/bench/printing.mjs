// Printing, end to end, against real IPP Everywhere printers (Debian's ippeveprinter):
//   latency: an order placed over HTTPS until its pickup ticket is completed at the
//     printer (the node's job state `confirmed`), one order at a time: p50 / p99;
//   alternative in the same run: ipptool sending the very page the node rendered
//     straight to the printer and asking until it completed (the floor of any IPP client
//     that renders nothing and keeps no queue);
//   throughput: orders each with a pickup ticket, a receipt and a label on three
//     printers (tickets, receipts, labels), from the first order to the last page
//     completed.
//
// Run: `npm run bench:printing` in ui/ after building the node (BOOTHCLOUD_NODE_BIN
// picks another binary). Prints Markdown tables for BENCHMARKS.md.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exampleManifest, freshDataDir, OPERATOR_TOKEN, placeOrder, startNode } from '../tests/node-process.mjs';

const ORDERS = Number(process.env.ORDERS ?? 200);
const DIRECT = Number(process.env.DIRECT ?? 100);
const BATCH = Number(process.env.BATCH ?? 60);

const work = freshDataDir();
const children = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ippeveprinter wants a D-Bus to advertise on: a private one that nobody listens on (the
// bench measures printing, not discovery).
const bus = join(work, 'bus');
children.push(spawn('dbus-daemon', ['--session', '--nofork', `--address=unix:path=${bus}`], { stdio: 'ignore' }));
for (let i = 0; i < 100 && !existsSync(bus); i++) await sleep(20);

async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

async function startPrinter(name) {
  const port = await freePort();
  const spool = join(work, name);
  mkdirSync(spool);
  children.push(spawn('ippeveprinter', ['-n', 'localhost', '-p', String(port), '-d', spool, '-k', '-c', '/bin/true', '-r', 'off', name], {
    env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` },
    stdio: 'ignore',
  }));
  for (let i = 0; ; i++) {
    const up = await new Promise((done) => {
      const s = connect(port, '127.0.0.1', () => { s.end(); done(true); }).on('error', () => done(false));
    });
    if (up) break;
    assert.ok(i < 250, `${name} did not listen`);
    await sleep(20);
  }
  return { name, port, spool, uri: `ipp://127.0.0.1:${port}/ipp/print` };
}

const printerToml = (p, role) => `\n[[printers]]\nname = "${p.name}"\nuri = "${p.uri}"\nrole = "${role}"\n`;

async function ops(url, path, method = 'GET') {
  const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 202 ? null : r.json();
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const ms = (v) => `${v.toFixed(0)} ms`;

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
}

try {
  // 1. Latency: one tickets printer, one order at a time.
  const prep = await startPrinter('prep');
  const node = await startNode({ dataDir: freshDataDir(), manifest: await exampleManifest((t) => t + printerToml(prep, 'tickets')) });
  const latency = [];
  try {
    for (let i = 0; i < ORDERS; i++) {
      const t0 = performance.now();
      const order = await placeOrder(node.url);
      for (;;) {
        const jobs = await ops(node.url, `/api/v1/ops/print-jobs?order=${order.order_id}`);
        const ticket = jobs.find((j) => j.kind === 'ticket');
        assert.notEqual(ticket?.state, 'attention', JSON.stringify(ticket));
        if (ticket?.state === 'confirmed') break;
        await sleep(2);
      }
      latency.push(performance.now() - t0);
    }
  } finally {
    await node.stop();
  }
  const pages = readdirSync(prep.spool).filter((f) => f.endsWith('.pwg')).sort();
  assert.equal(pages.length, ORDERS, 'each order printed once');

  // 2. The alternative: ipptool, the same page, asking every 20 ms (the node's first
  // look) until the printer says completed.
  const test = join(work, 'print-and-wait.test');
  writeFileSync(test, `{
  NAME "Print-Job"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR language attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $user
  ATTR mimeMediaType document-format image/pwg-raster
  FILE $filename
  STATUS successful-ok
  EXPECT job-id
}
{
  NAME "Until completed"
  DELAY 0,0.02
  OPERATION Get-Job-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR language attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id $job-id
  ATTR name requesting-user-name $user
  STATUS successful-ok
  EXPECT job-state WITH-VALUE 9 REPEAT-NO-MATCH
}
`);
  const direct = [];
  const page = join(prep.spool, pages[0]);
  for (let i = 0; i < DIRECT; i++) {
    const t0 = performance.now();
    await promisify(execFile)('ipptool', ['-f', page, prep.uri, test]);
    direct.push(performance.now() - t0);
  }

  // 3. Throughput: three printers, a ticket, a receipt and a label per order.
  const [tickets, receipts, labels] = [await startPrinter('tickets'), await startPrinter('receipts'), await startPrinter('labels')];
  const three = await startNode({
    dataDir: freshDataDir(),
    manifest: await exampleManifest((t) => t + printerToml(tickets, 'tickets') + printerToml(receipts, 'receipts') + printerToml(labels, 'labels')),
  });
  let elapsed;
  try {
    const t0 = performance.now();
    const ids = [];
    for (let i = 0; i < BATCH; i++) {
      const { order_id: id } = await placeOrder(three.url);
      await ops(three.url, `/api/v1/ops/orders/${id}/receipt-print`, 'POST');
      await ops(three.url, `/api/v1/ops/orders/${id}/label-print`, 'POST');
      ids.push(id);
    }
    for (;;) {
      const printers = await ops(three.url, '/api/v1/ops/printers');
      if (printers.every((p) => p.queued === 0)) break;
      await sleep(5);
    }
    elapsed = performance.now() - t0;
    for (const id of ids) {
      const jobs = await ops(three.url, `/api/v1/ops/print-jobs?order=${id}`);
      assert.deepEqual(jobs.map((j) => `${j.kind}:${j.state}`).sort(), ['label:confirmed', 'receipt:confirmed', 'ticket:confirmed']);
    }
  } finally {
    await three.stop();
  }
  for (const p of [tickets, receipts, labels]) {
    assert.equal(readdirSync(p.spool).filter((f) => f.endsWith('.pwg')).length, BATCH, `${p.name}: each page once`);
  }

  const node_ = summary(latency);
  const ipptool = summary(direct);
  console.log(`\n| order to pickup ticket completed at ippeveprinter | p50 | p99 | max |\n|---|---|---|---|`);
  console.log(`| the node: order over HTTPS, ticket rendered (PWG raster), sent over IPP, followed to completed (${ORDERS} orders, one at a time) | ${ms(node_.p50)} | ${ms(node_.p99)} | ${ms(node_.max)} |`);
  console.log(`| alternative: ipptool sending the same page and asking every 20 ms until completed (${DIRECT} pages) | ${ms(ipptool.p50)} | ${ms(ipptool.p99)} | ${ms(ipptool.max)} |`);
  console.log(`\n| three printers (tickets, receipts, labels) | figure |\n|---|---|`);
  console.log(`| ${BATCH} orders, each with a ticket, a receipt and a label: first order to last page completed | ${(elapsed / 1000).toFixed(2)} s (${((3 * BATCH) / (elapsed / 1000)).toFixed(1)} pages/s) |`);
  console.log(`| the same pages one after the other by ipptool (from the median above) | ${((3 * BATCH * ipptool.p50) / 1000).toFixed(2)} s (${(1000 / ipptool.p50).toFixed(1)} pages/s) |`);
} finally {
  for (const c of children) c.kill();
}
