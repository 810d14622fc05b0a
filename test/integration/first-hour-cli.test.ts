import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { childEnv } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';

// The first hour from the command line: failures that name their cause and end, a quiet CLI.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let db: TestDatabase;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, size: { accounts: 1, accountAuditEntries: 10, accountAuditV1Entries: 5, userAuditEntries: 5, auditDays: 1 }, rateLimit: false });
  db = await createTestDatabase();
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    // The kill after 5 minutes only turns a hang into a failure.
    execFile(process.execPath, ['bin/flarewatch.mjs', ...args], { cwd: ROOT, env: childEnv(env), timeout: 300_000 }, (err, stdout, stderr) =>
      ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('the CLI in the first hour', () => {
  it('start with Redis unreachable: one line naming REDIS_URL, exit 1, and it ends', async () => {
    const port = await freePort();
    const r = await cli(['start'], {
      REDIS_URL: `redis://:redis-secret-pw@127.0.0.1:${port}`, DATABASE_URL: db.url, CLOUDFLARE_BASE_URL: sim.url, CLOUDFLARE_API_TOKEN: sim.credentials.apiToken, FLAREWATCH_HTTP_PORT: '0',
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `flarewatch: cannot reach Redis at redis://127.0.0.1:${port} (REDIS_URL): connect ECONNREFUSED 127.0.0.1:${port}; start it, or fix REDIS_URL`,
    ]);
    expect(r.stderr).not.toContain('redis-secret-pw');
  });

  it('interactive commands print no log lines unless asked (-v); NO_COLOR leaves them uncoloured', { timeout: 600_000 }, async () => {
    const env = { DATABASE_URL: db.url };
    const [quiet, verbose] = await Promise.all([
      cli(['check'], env),
      cli(['-v', 'check'], { ...env, FLAREWATCH_LOG_FORMAT: 'pretty', NO_COLOR: '1' }),
    ]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stderr).toMatch(/INFO/);
    expect(verbose.stderr).not.toContain('\u001b[');
    // The answer itself is the same either way.
    expect(verbose.stdout.split('\n')[0]).toBe(quiet.stdout.split('\n')[0]);
  });
});
