// Interop with the reference tus client: tus-js-client uploads to a real boothcloud-node
// with an upload token — whole, interrupted and resumed, with per-chunk sha1 checksums
// (tus-js-client has no checksum option, so an HttpStack adds Upload-Checksum to each
// PATCH, the extension point the library offers) — and the files at the node are
// byte-identical. A damaged chunk is refused with 460 and the upload resumes after it.
//
// Run: node tests/tus.mjs (after `cargo build`; scripts/test runs it).

import { createHash, randomBytes } from 'node:crypto';
import * as tus from 'tus-js-client';

import { OPERATOR_TOKEN, freshDataDir, startNode, testCertificateAuthority } from './node-process.mjs';

let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${e.stack ?? e}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** tus-js-client's own Node stack, with Upload-Checksum on every PATCH; keeps a log. */
class ChecksumStack {
  constructor({ damageFirstPatch = false } = {}) {
    // Node's https, trusting the booth CA the test nodes hold, as an enrolled device does.
    this.inner = new tus.DefaultHttpStack({ ca: testCertificateAuthority().pem });
    this.log = [];
    this.damage = damageFirstPatch;
  }
  getName() {
    return 'ChecksumStack';
  }
  createRequest(method, url) {
    const req = this.inner.createRequest(method, url);
    const stack = this;
    const send = req.send.bind(req);
    req.send = (body = null) => {
      if (method === 'PATCH' && body instanceof Uint8Array) {
        let digest = createHash('sha1').update(body).digest('base64');
        if (stack.damage) {
          stack.damage = false;
          digest = createHash('sha1').update('not this chunk').digest('base64');
        }
        req.setHeader('Upload-Checksum', `sha1 ${digest}`);
      }
      stack.log.push({ method, offset: req.getHeader('Upload-Offset') });
      return send(body);
    };
    return req;
  }
}

function upload(file, options) {
  return new Promise((resolve, reject) => {
    const u = new tus.Upload(file, {
      retryDelays: null,
      removeFingerprintOnSuccess: true,
      ...options,
      onSuccess: () => resolve(u),
      onError: (e) => reject(e),
    });
    u.start();
    if (options.onStarted) options.onStarted(u);
  });
}

async function fileAt(url, uploadUrl) {
  const id = uploadUrl.split('/').pop();
  const res = await fetch(`${url}/api/v1/ops/uploads/${id}/file`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  assert(res.status === 200, `file: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

const node = await startNode({ dataDir: freshDataDir() });
try {
  const issued = await fetch(`${node.url}/api/v1/ops/upload-tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ label: 'tus-js-client' }),
  }).then((r) => r.json());
  const common = {
    endpoint: `${node.url}/api/v1/uploads/`,
    headers: { Authorization: `Bearer ${issued.token}` },
    chunkSize: 1 << 20,
  };

  await step('a whole upload with sha1 checksums is byte-identical', async () => {
    const data = randomBytes(5 * (1 << 20) + 12345);
    const stack = new ChecksumStack();
    const u = await upload(data, { ...common, httpStack: stack, metadata: { filename: 'whole.mp4', filetype: 'video/mp4' } });
    assert((await fileAt(node.url, u.url)).equals(data), 'the file at the node differs');
    assert(stack.log.filter((r) => r.method === 'PATCH').length === 6, `6 chunks: ${JSON.stringify(stack.log)}`);
  });

  await step('an interrupted upload resumes from the offset the node reports', async () => {
    const data = randomBytes(4 * (1 << 20));
    let first;
    await new Promise((resolve, reject) => {
      first = new tus.Upload(data, {
        ...common,
        chunkSize: 512 << 10,
        httpStack: new ChecksumStack(),
        metadata: { filename: 'interrupted.mov' },
        onProgress: (sent) => {
          if (sent >= 2 << 20) {
            first.abort().then(resolve, reject);
          }
        },
        onSuccess: () => reject(new Error('the upload finished before it was interrupted')),
        onError: reject,
      });
      first.start();
    });
    assert(first.url, 'the first attempt created the upload');
    const stack = new ChecksumStack();
    const u = await upload(data, { ...common, uploadUrl: first.url, httpStack: stack });
    assert(u.url === first.url, 'the same upload was continued');
    assert(stack.log[0].method === 'HEAD', `it asked the node first: ${JSON.stringify(stack.log)}`);
    const firstPatch = stack.log.find((r) => r.method === 'PATCH');
    assert(Number(firstPatch.offset) >= 2 << 20, `resumed at ${firstPatch.offset}, not from zero`);
    assert((await fileAt(node.url, u.url)).equals(data), 'the resumed file differs');
  });

  await step('a damaged chunk is refused with 460 and nothing of it is kept', async () => {
    const data = randomBytes(3 * (1 << 20));
    let started;
    const error = await upload(data, {
      ...common,
      httpStack: new ChecksumStack({ damageFirstPatch: true }),
      onStarted: (u) => {
        started = u;
      },
    }).then(
      () => null,
      (e) => e,
    );
    assert(error, 'the damaged chunk was accepted');
    assert(error.originalResponse?.getStatus() === 460, `status ${error.originalResponse?.getStatus()}`);
    const head = await fetch(started.url, { method: 'HEAD', headers: { ...common.headers, 'Tus-Resumable': '1.0.0' } });
    assert(head.headers.get('upload-offset') === '0', `offset after the damaged chunk: ${head.headers.get('upload-offset')}`);
    const u = await upload(data, { ...common, uploadUrl: started.url, httpStack: new ChecksumStack() });
    assert((await fileAt(node.url, u.url)).equals(data), 'the file differs after the retry');
  });
} finally {
  await node.stop();
}
console.log(`tus interop tests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
