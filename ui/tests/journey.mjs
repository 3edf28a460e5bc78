// The steps of a browser journey test: each step runs, is timed and counted, and a
// failure is printed and counted without stopping the journey (so one broken step does
// not hide the rest); screenshots go to target/artifacts (and, with --screenshots, to
// docs/screenshots). The summary line is what scripts/test counts.

import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function journey(root) {
  const artifacts = join(root, 'target/artifacts');
  const docs = join(root, 'docs/screenshots');
  const updateDocs = process.argv.includes('--screenshots');
  mkdirSync(artifacts, { recursive: true });
  let passed = 0;
  let failed = 0;
  return {
    async step(name, fn) {
      const t0 = Date.now();
      try {
        await fn();
        passed += 1;
        console.log(`ok   ${name} (${Date.now() - t0} ms)`);
      } catch (e) {
        failed += 1;
        console.log(`FAIL ${name}: ${e.stack ?? e}`);
      }
    },
    async shot(page, name) {
      const path = join(artifacts, `${name}.png`);
      await page.screenshot({ path });
      if (updateDocs) {
        mkdirSync(docs, { recursive: true });
        copyFileSync(path, join(docs, `${name}.png`));
      }
    },
    /** Prints "<what>: N passed, M failed" and exits with the journey's status. */
    finish(what) {
      console.log(`${what}: ${passed} passed, ${failed} failed`);
      process.exit(failed === 0 ? 0 : 1);
    },
  };
}
