// Checks that src/api/schema.d.ts is what openapi-typescript generates from the OpenAPI
// document a real node serves (GET /api/v1/openapi.json): the dashboard's types of the
// node's JSON may not drift from the node.
//
// Run: node tests/api-types.mjs [NODE_BINARY]   (scripts/test passes ../target/debug/boothcloud-node)
// Ends with one line "api types: N passed, M failed".

import { committedSchema, firstDifferences, REGENERATE, schemaText, servedDocument } from '../scripts/api-types.mjs';
import { nodeBinary } from './node-process.mjs';

const binary = process.argv[2] ?? nodeBinary();
let problem = null;
let document = null;
try {
  document = await servedDocument(binary);
} catch (e) {
  problem = [`could not get /api/v1/openapi.json from ${binary}: ${e instanceof Error ? e.message : e}`];
}
if (document) {
  try {
    const expected = await schemaText(document);
    const committed = committedSchema();
    if (committed !== expected) {
      problem = [
        committed ? 'src/api/schema.d.ts differs from what the served OpenAPI document generates:' : 'src/api/schema.d.ts is missing:',
        ...firstDifferences(committed, expected),
        `run: ${REGENERATE}`,
      ];
    }
  } catch (e) {
    // openapi-typescript refuses the document itself (a duplicate operationId, a broken $ref):
    // regenerating cannot help, the node's annotations need the fix.
    problem = [`openapi-typescript refuses the node's OpenAPI document: ${e instanceof Error ? e.message : e}`];
  }
}

if (problem) {
  console.log(problem.join('\n'));
  console.log('api types: 0 passed, 1 failed');
  process.exitCode = 1;
} else {
  console.log('api types: 1 passed, 0 failed');
}
