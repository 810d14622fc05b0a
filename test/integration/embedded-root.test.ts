import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { blockedAncestor, postgresDataDir, REACHABLE_BASE } from '../../src/db/embedded-access.js';
import { childEnv } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';

// mkdtemp makes 0700 folders: like /root, one the 'postgres' user cannot enter.
const locked = mkdtempSync(join(tmpdir(), 'flarewatch-locked-'));
afterAll(() => rmSync(locked, { recursive: true, force: true }));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The CLI as a user runs it; a kill after 5 minutes only so that a hang fails the test instead of the run. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['bin/flarewatch.mjs', ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const guard = setTimeout(() => child.kill('SIGKILL'), 300_000);
  return new Promise((ok) => child.on('exit', (code, signal) => (clearTimeout(guard), ok({ code, signal, stderr }))));
}

describe('the embedded PostgreSQL in a folder its user cannot enter', () => {
  it('finds the first folder on the way that an account cannot enter', () => {
    mkdirSync(join(locked, 'a', 'b'), { recursive: true });
    expect(blockedAncestor(join(locked, 'a', 'b', 'data'), { uid: 65534, gids: [65534] })).toBe(locked);
    expect(blockedAncestor(join(tmpdir(), 'x'), { uid: 65534, gids: [65534] })).toBeUndefined();
  });

  it.runIf(process.getuid?.() === 0)('as root, data in a folder the postgres user cannot enter: the server keeps it where that user can reach, the same folder every time', async () => {
    const dataDir = join(locked, 'data');
    const first = await startEmbeddedPostgres(dataDir, await freePort());
    try {
      expect(first.databaseDir.startsWith(`${REACHABLE_BASE}/`)).toBe(true);
      expect(first.databaseDir).toBe(postgresDataDir(dataDir));
      const client = new pg.Client({ connectionString: first.url });
      await client.connect();
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      await client.end();
    } finally {
      await first.stop();
    }
    // Not blocked: the data folder's own postgres folder, as before.
    expect(postgresDataDir(join(tmpdir(), 'flarewatch-open'))).toBe(join(tmpdir(), 'flarewatch-open', 'postgres'));
    rmSync(dirname(first.databaseDir), { recursive: true, force: true });
  });

  it('the demo ends (exit 1, one line) when its PostgreSQL cannot start, instead of hanging on its simulator', async () => {
    // The demo's server takes FLAREWATCH_EMBEDDED_PG_PORT + 1: something else is listening there.
    const busy = createServer((s) => s.destroy());
    const port = await freePort();
    await new Promise<void>((ok) => busy.listen(port + 1, '127.0.0.1', ok));
    try {
      const res = await runCli(['demo'], { FLAREWATCH_DATA_DIR: join(locked, 'busy'), FLAREWATCH_EMBEDDED_PG_PORT: String(port) });
      expect(res.signal).toBeNull();
      expect(res.code).toBe(1);
      const lines = res.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^flarewatch: embedded PostgreSQL in .* did not start/);
    } finally {
      busy.close();
    }
  });
});
