// The Devices and Fleet screens with real devices found over mDNS: run by the discovery
// scenario (tests/scenarios/discovery.sh) inside one of its test hosts, against the booth
// there, after it has found a paired booth and an Avahi printer and been flooded with
// web devices. Chromium (Debian's) driven by playwright-core; prints its checks and
// exits non-zero on the first that fails.
//
//   node tests/devices.mjs URL TOKEN BOOTH_NAME PRINTER_NAME SCREENSHOT
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const [url, token, booth, printer, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
  page.setDefaultTimeout(15_000);
  await page.goto(url);
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Open dashboard' }).click();

  await page.getByTestId('open-devices').click();
  const rows = page.getByTestId('device-row');
  const boothRow = rows.filter({ hasText: booth });
  await boothRow.first().waitFor();
  assert.equal(await boothRow.first().getAttribute('data-kind'), 'booth');
  assert.match(await boothRow.first().innerText(), /Paired/);
  assert.match(await boothRow.first().innerText(), /Here/);
  const printerRow = rows.filter({ hasText: printer });
  await printerRow.first().waitFor();
  assert.equal(await printerRow.first().getAttribute('data-kind'), 'printer');
  console.log('  ok: the Devices screen lists the paired booth and the printer found over mDNS');
  await printerRow.first().getByTestId('printer-add').click();
  const lines = await page.getByTestId('printer-lines-text').innerText();
  assert.match(lines, new RegExp(`dns_sd = "${printer}\\._ipp\\._tcp"`), lines);
  assert.match(lines, /^\[\[printers\]\]\nname = "booth-receipt-printer"/);
  console.log('  ok: the printer found over mDNS comes with the price list lines that print on it, by its name');
  const notice = page.getByTestId('flood-notice');
  await notice.first().waitFor();
  assert.match(await notice.first().innerText(), /Not looking for web devices for the next \d+ min/);
  console.log('  ok: it says web devices are not looked for during the flood, and for how long');
  await page.screenshot({ path: screenshot });
  await page.getByTestId('devices').getByRole('button', { name: 'Close' }).click();

  await page.getByTestId('open-fleet').click();
  const card = page.getByTestId('booth-card').filter({ hasText: booth });
  await card.first().waitFor();
  console.log('  ok: the Fleet screen shows the paired booth');
} finally {
  await browser.close();
}
