import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_KEYS } from '../../src/config.js';
import { type AuditKind, type FaultRule, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { mulberry32 } from '../../src/simulator/prng.js';
import {
  checkpointOf, dbDigest, dbIds, duplicateCheck, entryTimeMs, runsOf, simDigest, V1_ACCOUNT_ROUTE, V1_USER_ROUTE, V2_ROUTE,
} from '../helpers/audit.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// ~100,000 entries: 60,000 v2 + 20,000 v1 of one account + 20,000 user v1.
const SIZE = { accounts: 1, accountAuditEntries: 60_000, accountAuditV1Entries: 20_000, userAuditEntries: 20_000, auditDays: 20 };
const ATTEMPTS = 6;
const APP = 'fw-crash-child';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SEED = Number(process.env.CRASH_TEST_SEED ?? Date.now() % 2 ** 31);

let db: TestDatabase;
let sim: Simulator;
let account: string;

interface Stream { name: string; kind: AuditKind; accountId?: string; ids: string[]; times: number[] }
let streams: Stream[] = [];

beforeAll(async () => {
  // A few ms per page so a walk lasts long enough to be killed at many points.
  const slow: FaultRule[] = [V2_ROUTE, V1_ACCOUNT_ROUTE, V1_USER_ROUTE].map((route) => ({ route, kind: 'slow', delayMs: 25 }));
  sim = await startSimulator({ seed: 31, size: SIZE, rateLimit: false, faults: slow });
  db = await createTestDatabase();
  account = sim.world.accounts[0]!.id;
  const ordered = (kind: AuditKind, accountId?: string) => {
    const ids: string[] = [], times: number[] = [];
    for (const e of sim.world.auditStream(kind, accountId).entries()) { ids.push(e.id); times.push(entryTimeMs(e)); }
    return { ids, times };
  };
  streams = [
    { name: `account-audit:${account}`, kind: 'account-v2', accountId: account, ...ordered('account-v2', account) },
    { name: `account-audit-v1:${account}`, kind: 'account-v1', accountId: account, ...ordered('account-v1', account) },
    { name: 'user-audit:default', kind: 'user-v1', ...ordered('user-v1') },
  ];
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Nothing of the test runner's own flarewatch settings leaks into the child.
  for (const [k, v] of Object.entries(process.env)) if (!(k in ENV_KEYS) && !k.endsWith('_FILE') && k !== 'FLAREWATCH_CONFIG') env[k] = v;
  return {
    ...env,
    DATABASE_URL: `${db.url}?application_name=${APP}`,
    CLOUDFLARE_BASE_URL: sim.url,
    CLOUDFLARE_API_TOKEN: sim.credentials.apiToken,
    // The simulator's history ends when it started: with no lag, one window holds all of it.
    FLAREWATCH_AUDIT_LAG: '0s',
    LOG_LEVEL: 'warn',
  };
}

function spawnSync(): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/sync-child.ts', 'account-audit', 'account-audit-v1', 'user-audit'], {
    cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => out };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await db.pool.query<T>(sql, params)).rows;
const archivedCount = async () => (await q<{ n: number }>('select count(*)::int as n from audit_logs'))[0]!.n;

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * What must hold whenever a walker stops, however abruptly: each page and its checkpoint commit
 * together, so a stream's archive is exactly a prefix of its (time, id) order that the checkpoint
 * describes — rows without a checkpoint, or a checkpoint past its rows, would break it.
 */
async function expectConsistent(label: string) {
  const dup = await duplicateCheck(db.pool);
  expect(dup.rows, `${label}: duplicates`).toBe(dup.distinct);
  for (const s of streams) {
    const stored = await dbIds(db.pool, s.kind, s.accountId);
    const cp = await checkpointOf(db.pool, s.name);
    const where = `${label}: ${s.name}`;
    if (!cp) {
      expect(stored.size, `${where}: rows without a checkpoint`).toBe(0);
    } else if (cp.watermark) {
      // The first window was completed: everything is archived.
      expect(stored.size, where).toBe(s.ids.length);
    } else {
      const k = stored.size;
      expect(k, where).toBeGreaterThan(0);
      expect(s.ids.slice(0, k).every((id) => stored.has(id)), `${where}: archive is not a prefix`).toBe(true);
      expect(cp.window.lastTime, `${where}: checkpoint does not end at the last stored entry`).toBe(new Date(s.times[k - 1]!).toISOString());
    }
  }
}

describe('crash and resume', () => {
  it('a backfill SIGKILLed at random points resumes to an exact archive', async () => {
    const rng = mulberry32(SEED);
    const kills: Array<{ delayMs: number; archivedAtKill: number }> = [];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const before = await archivedCount();
      const run = spawnSync();
      let exitedEarly = false;
      void run.exited.then(() => (exitedEarly = true));
      // Wait until this walker has stored something, then let it run a random while longer.
      await waitFor('the child to store rows', async () => exitedEarly || (await archivedCount()) > before, 60_000);
      const delayMs = Math.floor(50 + rng() * 1200);
      await sleep(delayMs);
      if (!exitedEarly) {
        run.child.kill('SIGKILL');
        const { signal } = await run.exited;
        expect(signal).toBe('SIGKILL');
        kills.push({ delayMs, archivedAtKill: await archivedCount() });
      } else {
        await run.exited;
      }
      // The killed process's sessions (and the stream locks they held) are gone before the next walker starts.
      await waitFor('the killed sessions to end', async () => (await q<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1`, [APP],
      ))[0]!.n === 0, 15_000);
      await expectConsistent(`after kill ${attempt + 1}`);
    }
    console.info(`crash test seed ${SEED}: kills ${JSON.stringify(kills)}`);
    expect(kills.length, `seed ${SEED}`).toBeGreaterThanOrEqual(4);
    // Kills landed mid-backfill, not after it.
    const total = streams.reduce((s, x) => s + x.ids.length, 0);
    expect(kills.filter((k) => k.archivedAtKill < total).length, `seed ${SEED}`).toBeGreaterThanOrEqual(4);

    const final = spawnSync();
    const done = await final.exited;
    expect(done, final.output()).toEqual({ code: 0, signal: null });
    const summary = JSON.parse(final.output().trim().split('\n').at(-1)!) as Array<{ stream: string; status: string }>;
    for (const s of streams) expect(summary.find((o) => o.stream === s.name)?.status, s.name).toBe('succeeded');

    // Exact archive: same sets, same raw, nothing twice, nothing missing.
    for (const s of streams) {
      expect(await dbDigest(db.pool, s.kind, s.accountId), s.name).toEqual(simDigest(sim, s.kind, s.accountId));
    }
    expect(await duplicateCheck(db.pool)).toEqual({ rows: total, distinct: total });

    // sync_runs tells the story: the killed runs were closed as abandoned, later runs resumed mid-window.
    const runs = await runsOf(db.pool);
    expect(runs.filter((r) => r.status === 'running')).toEqual([]);
    const abandoned = runs.filter((r) => r.status === 'failed' && r.error?.startsWith('abandoned'));
    expect(abandoned.length).toBeGreaterThanOrEqual(kills.length);
    expect(runs.filter((r) => r.status === 'failed' && !r.error?.startsWith('abandoned'))).toEqual([]);
    // An abandoned run's counters are the ones committed with its last page: consistent with each other.
    for (const r of abandoned.filter((x) => x.stream !== 'accounts:default')) {
      expect(r.rows_fetched, `run ${r.id} ${r.stream}`).toBeGreaterThanOrEqual(r.rows_upserted);
      expect(r.pages, `run ${r.id} ${r.stream}`).toBe(Math.ceil(r.rows_fetched / 1000));
      expect(r.requests, `run ${r.id} ${r.stream}`).toBeGreaterThanOrEqual(r.pages);
    }
    expect(abandoned.some((r) => r.stream !== 'accounts:default' && r.rows_upserted > 0)).toBe(true);
    const resumed = runs.filter((r) => r.resumed_from_page !== null && r.stream !== 'accounts:default');
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    for (const r of resumed) {
      expect(r.resumed_from_page).toBeGreaterThan(1);
      // A resumed run follows an abandoned one of the same stream.
      expect(runs.some((x) => x.stream === r.stream && x.id < r.id && x.error?.startsWith('abandoned')), r.stream).toBe(true);
    }
    for (const s of streams) {
      const own = runs.filter((r) => r.stream === s.name);
      expect(own.at(-1)!.status, s.name).toBe('succeeded');
      expect(await checkpointOf(db.pool, s.name), s.name).toEqual({ watermark: expect.any(String), from: expect.any(String) });
    }
  }, 420_000); // a safety net, not a timing figure: ATTEMPTS kill-and-resume cycles on a loaded machine
});
