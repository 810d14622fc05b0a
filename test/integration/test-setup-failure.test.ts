import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';

// `npm test` used to exit 1 printing nothing after RUN when the shared PostgreSQL did not start.
describe('the test run', () => {
  it('says why when its global setup fails (here: the PostgreSQL port is taken)', async () => {
    const port = await freePort();
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen(port, '127.0.0.1', ok));
    try {
      const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/unit/duration.test.ts'], {
        cwd: process.cwd(), env: { ...process.env, FLAREWATCH_TEST_PG_PORT: String(port), CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
      expect(code).not.toBe(0);
      expect(out).toMatch(/flarewatch tests: global setup failed: embedded PostgreSQL in .* did not start: .*in use/i);
      expect(out).toMatch(/\n0 passed, 1 failed, 0 skipped\n/);
    } finally {
      busy.close();
    }
  });
});
