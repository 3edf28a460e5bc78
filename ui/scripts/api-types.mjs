// The dashboard's types of the node's JSON, generated from the OpenAPI document a real
// node serves (GET /api/v1/openapi.json) by openapi-typescript, into src/api/schema.d.ts.
//
//   node scripts/api-types.mjs --write [NODE_BINARY]   regenerate src/api/schema.d.ts (npm run api:types)
//   node scripts/api-types.mjs [NODE_BINARY]           only compare it (tests/api-types.mjs is the test)
//
// NODE_BINARY defaults to ../target/debug/boothcloud-node (or $BOOTHCLOUD_NODE_BIN).

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { freshDataDir, nodeBinary, startNode } from '../tests/node-process.mjs';

export const SCHEMA_FILE = resolve(import.meta.dirname, '../src/api/schema.d.ts');
export const REGENERATE = 'cd ui && npm run api:types';
const HEADER = `// Generated from the node's OpenAPI document (GET /api/v1/openapi.json) by \`${REGENERATE}\`; do not edit.\n`;

/** The OpenAPI document a freshly started node serves; the node is stopped in every case. */
export async function servedDocument(binary = nodeBinary()) {
  const dataDir = freshDataDir();
  let node = null;
  // Interrupted: the node goes too, then this process (with the shell's code for the signal).
  const interrupted = (signal) => void Promise.resolve(node?.stop()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    node = await startNode({ dataDir, binary });
    const response = await fetch(`${node.url}/api/v1/openapi.json`);
    if (!response.ok) throw new Error(`GET /api/v1/openapi.json answered ${response.status}`);
    return await response.json();
  } finally {
    await node?.stop();
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** schema.d.ts's text for an OpenAPI document (openapi-typescript's defaults; a problem in the document throws). */
export async function schemaText(document, options = {}) {
  const ast = await openapiTS(document, { silent: true, ...options });
  return HEADER + COMMENT_HEADER + astToString(ast);
}

/** The first lines where `actual` (the committed file) and `expected` differ, as a short diff. */
export function firstDifferences(actual, expected, max = 10) {
  const a = actual.split('\n');
  const b = expected.split('\n');
  const out = [];
  for (let i = 0; i < Math.max(a.length, b.length) && out.length < max * 2; i++) {
    if (a[i] === b[i]) continue;
    out.push(`  line ${i + 1}, committed: ${a[i] === undefined ? '(end of file)' : JSON.stringify(a[i])}`);
    out.push(`  line ${i + 1}, generated: ${b[i] === undefined ? '(end of file)' : JSON.stringify(b[i])}`);
  }
  return out;
}

export function committedSchema() {
  try {
    return readFileSync(SCHEMA_FILE, 'utf8');
  } catch {
    return '';
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const write = process.argv.includes('--write');
  const binary = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? nodeBinary();
  let text;
  try {
    text = await schemaText(await servedDocument(binary));
  } catch (e) {
    console.error(`no types generated: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
  if (write) {
    writeFileSync(SCHEMA_FILE, text);
    console.log(`wrote ${SCHEMA_FILE} from ${binary}'s /api/v1/openapi.json`);
  } else if (committedSchema() === text) {
    console.log('src/api/schema.d.ts matches the served OpenAPI document');
  } else {
    console.log(['src/api/schema.d.ts does not match the served OpenAPI document:', ...firstDifferences(committedSchema(), text), `run: ${REGENERATE}`].join('\n'));
    process.exitCode = 1;
  }
}
