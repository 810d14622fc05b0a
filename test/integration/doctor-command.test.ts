import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { childEnv } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// `flarewatch doctor` and the preflight of `run`: each problem in one line, naming the credential and
// the host or setting, instead of one error per stream.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let sim: Simulator;
let db: TestDatabase;
let closedPort: number;

/** A port that was free a moment ago and has nothing listening on it. */
async function unusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, size: { accounts: 1 }, rateLimit: false });
  db = await createTestDatabase();
  closedPort = await unusedPort();
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

async function cli(args: string[], vars: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', ...args], {
    cwd: ROOT, env: childEnv({ LOG_LEVEL: 'warn', FLAREWATCH_MAX_RETRIES: '1', ...vars }), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (err += String(d)));
  const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
  return { code, out, err };
}

const base = () => ({ CLOUDFLARE_BASE_URL: sim.url, CLOUDFLARE_API_TOKEN: sim.credentials.apiToken, DATABASE_URL: db.url });
const failures = (out: string) => out.split('\n').filter((l) => l.startsWith('✗ '));

describe('flarewatch doctor', () => {
  it('all good: every credential, endpoint, the database and the sinks, one line each; exit 0', async () => {
    const r = await cli(['doctor'], base());
    expect(r.code, r.err + r.out).toBe(0);
    expect(failures(r.out)).toEqual([]);
    expect(r.out).toMatch(/^✓ credential default: user-token, token [0-9a-f]+, active, never expires, owner@example\.com$/m);
    expect(r.out).toContain(`✓ default: GET /accounts/${sim.world.accounts[0]!.id}/members (members:${sim.world.accounts[0]!.id}): answered`);
    expect(r.out).toMatch(/^✓ database: 127\.0\.0\.1:\d+\/t_\w+: PostgreSQL 17/m);
    expect(r.out).toMatch(/\n\d+ checks, 0 failed\n$/);
  });

  it('finds a missing permission, naming the permission to add', async () => {
    sim.credentials.deny.push('GET /accounts/:account_id/members');
    try {
      const r = await cli(['doctor'], base());
      expect(r.code).toBe(1);
      const id = sim.world.accounts[0]!.id;
      expect(failures(r.out)).toEqual([
        `✗ default: GET /accounts/${id}/members (members:${id}): HTTP 403 (code 10000): Authentication error — the credential lacks permission for this endpoint (needs "Account Settings Read")`,
      ]);
    } finally {
      sim.credentials.deny.length = 0;
    }
  });

  it('a bad token, an unreachable database and a wrong base URL: one line each', async () => {
    const bad = await cli(['doctor'], { ...base(), CLOUDFLARE_API_TOKEN: 'not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
    expect(bad.code).toBe(1);
    expect(failures(bad.out)).toEqual(['✗ credential default: refused by Cloudflare (HTTP 403, code 9109): Invalid access token']);

    const noDb = await cli(['doctor'], { ...base(), DATABASE_URL: `postgresql://flarewatch:pw@127.0.0.1:${closedPort}/flarewatch` });
    expect(noDb.code).toBe(1);
    expect(failures(noDb.out)).toEqual([`✗ database: cannot connect to 127.0.0.1:${closedPort}/flarewatch (DATABASE_URL): ECONNREFUSED`]);
    expect(noDb.out).not.toContain(':pw@');

    const wrongUrl = await cli(['doctor'], { ...base(), CLOUDFLARE_BASE_URL: `http://127.0.0.1:${closedPort}/client/v4` });
    expect(wrongUrl.code).toBe(1);
    expect(failures(wrongUrl.out)).toEqual([`✗ credential default: cannot reach 127.0.0.1:${closedPort} (CLOUDFLARE_BASE_URL): Connection error. (ECONNREFUSED)`]);
  });
});

describe('the preflight of run', () => {
  it('a base URL that does not answer fails at once in one line, not one error per stream', async () => {
    const r = await cli(['run'], { ...base(), CLOUDFLARE_BASE_URL: `http://127.0.0.1:${closedPort}/client/v4` });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toEqual([`flarewatch: credential "default": cannot reach 127.0.0.1:${closedPort} (CLOUDFLARE_BASE_URL): Connection error. (ECONNREFUSED)`]);
    const { rows } = await db.pool.query(`select count(*)::int as n from sync_runs`);
    expect(rows[0].n).toBe(0);
  });

  it('a credential that fails verification is one line; its streams are not walked, the run exits 1', async () => {
    const r = await cli(['run'], { ...base(), CLOUDFLARE_API_TOKEN: 'revoked-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual(['flarewatch: credential "default": refused by Cloudflare (HTTP 403, code 9109): Invalid access token']);
  });
});
