// The differential test: the WebAssembly engine (what a kiosk prices with offline) must
// answer every case of the corpus exactly as the native engine did: the same priced
// basket, byte for byte, or the same refusal. The corpus is written by the native side:
//   cargo run -p boothcloud-pricing --features corpus --bin pricing-corpus -- FILE
// Usage: node tests/pricing-diff.mjs FILE
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { initSync, Engine } from "../src/pricing/engine/boothcloud_pricing.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: node tests/pricing-diff.mjs CORPUS.jsonl");
  process.exit(2);
}
const wasm = readFileSync(fileURLToPath(new URL("../src/pricing/engine/boothcloud_pricing_bg.wasm", import.meta.url)));
initSync({ module: wasm });

const engines = new Map();
let cases = 0;
let refusals = 0;
const failures = [];
for (const text of readFileSync(file, "utf8").split("\n")) {
  if (!text) continue;
  const row = JSON.parse(text);
  if (row.document !== undefined) {
    const engine = new Engine(row.document);
    if (engine.digest !== row.book) failures.push(`book ${row.book}: the engine names it ${engine.digest}`);
    engines.set(row.book, engine);
    continue;
  }
  cases += 1;
  const engine = engines.get(row.book);
  let answer;
  try {
    answer = { priced: engine.price(row.basket, row.at_ms) };
  } catch (e) {
    answer = { error: String(e.message ?? e) };
  }
  if (row.error !== undefined) refusals += 1;
  const expected = row.priced !== undefined ? { priced: row.priced } : { error: row.error };
  if (JSON.stringify(answer) !== JSON.stringify(expected)) {
    if (failures.length < 5) failures.push(`basket ${row.basket} at ${row.at_ms}:\n  native ${JSON.stringify(expected)}\n  wasm   ${JSON.stringify(answer)}`);
    else failures.push("…");
  }
}
if (cases === 0) failures.push("the corpus holds no case");
// One test, however many cases: it passes only if every case agrees.
console.log(`pricing diff: ${failures.length ? '0 passed, 1 failed' : '1 passed, 0 failed'} (${cases} cases, ${refusals} of them refusals, over ${engines.size} price books; ${failures.length} differences)`);
if (failures.length) {
  console.error(failures.slice(0, 6).join("\n"));
  process.exit(1);
}
