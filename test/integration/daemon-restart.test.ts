import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { syncJobId, tickOf } from '../../src/jobs/ids.js';
import { connectRedis } from '../../src/jobs/redis.js';
import { type FaultRule, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { duplicateCheck, V1_ACCOUNT_ROUTE, V1_USER_ROUTE, V2_ROUTE } from '../helpers/audit.js';
import { daemonEnv, expectAuditExact, overlappingRuns, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-restart tests');

// Redis, then Postgres, restarted under a running daemon (scheduler + workers + ops server in one
// instance, as `flarewatch start` runs them). Postgres is this file's own embedded server, so
// stopping it does not disturb the other test files.
let pgDir: string;
let pgPort: number;
let pgServer: EmbeddedServer;
let check: pg.Pool;
let sim: Simulator;
let redis: TestRedis;
let daemon: TestDaemon | undefined;

beforeAll(async () => {
  pgDir = mkdtempSync(join(tmpdir(), 'flarewatch-restart-pg-'));
  chmodSync(pgDir, 0o755);
  pgPort = await freePort();
  const slow: FaultRule[] = [V2_ROUTE, V1_ACCOUNT_ROUTE, V1_USER_ROUTE].map((route) => ({ route, kind: 'slow', delayMs: 40 }));
  [pgServer, sim, redis] = await Promise.all([
    startEmbeddedPostgres(pgDir, pgPort),
    startSimulator({ seed: 97, size: { accounts: 1, accountAuditEntries: 30_000, accountAuditV1Entries: 300, userAuditEntries: 300, auditDays: 10 }, rateLimit: false, faults: slow }),
    startTestRedis({ persist: true }),
  ]);
  check = new pg.Pool({ connectionString: pgServer.url, max: 2 });
  check.on('error', () => undefined);
});

afterAll(async () => {
  await daemon?.shutdown('test over').catch(() => undefined);
  await check?.end().catch(() => undefined);
  await sim?.close();
  await redis?.stop();
  await pgServer?.stop().catch(() => undefined);
  if (pgDir) rmSync(pgDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const archived = async () => (await check.query<{ n: number }>('select count(*)::int as n from audit_logs')).rows[0]!.n;
const running = async () => (await check.query<{ n: number }>(`select count(*)::int as n from sync_runs where status = 'running'`)).rows[0]!.n;
const readyz = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status;

describe.runIf(REDIS)('Redis and Postgres restarts under a running daemon', () => {
  it('recovers by itself: failed attempts are retried, the archive is exact, the instance is ready again', async () => {
    const opsPort = await freePort();
    const env = daemonEnv(pgServer.url, sim, redis.url, {
      FLAREWATCH_AUDIT_PAGE_SIZE: '100',
      FLAREWATCH_STREAMS: 'accounts,account-audit,account-audit-v1,user-audit',
      FLAREWATCH_HTTP_PORT: String(opsPort),
      // The shared limiter stays on (far above this test's demand): its Redis calls live through the restart too.
      FLAREWATCH_RATE_LIMIT: '1200/5m',
    });
    daemon = await startTestDaemon(env, { scheduler: true, workers: true, concurrency: 3 });
    const failures: Array<{ id: string; attempt: number; reason: string }> = [];
    for (const w of daemon.pool!.workers) w.on('failed', (job, err) => failures.push({ id: job?.id ?? '?', attempt: job?.attemptsMade ?? 0, reason: err.message }));
    const stalled: string[] = [];
    for (const w of daemon.pool!.workers) w.on('stalled', (id) => stalled.push(id));
    expect(await readyz(opsPort)).toBe(200);
    const at = (min: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + min * 60_000);

    // Round 1 discovers the account; round 2 walks its long audit backfill (30 000 entries, 300 slow pages:
    // long enough that the walk is still going when Postgres has stopped, however fast the writes are).
    await daemon.scheduler!.tick(at(0));
    await waitIdle(redis.url, 60_000);
    await daemon.scheduler!.tick(at(5));
    const base = await archived();
    await waitFor('the long walk to be under way', async () => (await archived()) > base + 1_000, 30_000);

    // Redis down for longer than the job lock (2 s here), back on the same port with its append-only file:
    // the walk's lock lapses and BullMQ hands its job out again while the walk goes on in this process.
    await redis.restart(3_000);
    const walkJob = syncJobId(`account-audit:${sim.world.accounts[0]!.id}`, tickOf(at(5)));
    await waitFor('the walk\'s job to be handed out again after its lock lapsed', async () => stalled.includes(walkJob), 30_000)
      .catch((err: Error) => { throw new Error(`${err.message}; stalled: ${JSON.stringify(stalled)}`); });
    const afterRedis = await archived();
    await waitFor('the walk to go on after the Redis restart', async () => (await archived()) > afterRedis + 1_000, 30_000);
    expect(await running()).toBeGreaterThan(0);
    // The second delivery waits for the walk already running here instead of completing as "locked by
    // another walker", which would let the round's checks run on a half-walked stream.
    expect(daemon.logLines.some((l) => l.includes('this delivery reports that run'))).toBe(true);
    expect(daemon.logLines.some((l) => l.includes('locked by another walker'))).toBe(false);

    // Postgres stopped (fast shutdown: every session terminated mid-walk), then started again on the same folder and port.
    await pgServer.stop();
    await waitFor('/readyz to report Postgres down', async () => (await readyz(opsPort)) === 503, 10_000);
    // Stay down until a walk has actually hit the outage (a sync job failed, not only some other
    // job that touched the database), so the recovery below is always a recovery; a short outage
    // between two pages' commits would otherwise go unnoticed.
    await waitFor('a sync job to fail while Postgres is down', async () => failures.some((f) => f.id.startsWith('sync|')), 30_000)
      .catch((err: Error) => { throw new Error(`${err.message}; jobs failed so far: ${JSON.stringify(failures)}; log: ${JSON.stringify(daemon!.logLines.filter((l) => /job failed|walk failed|lock|handed out/i.test(l)).slice(-12))}`); });
    pgServer = await startEmbeddedPostgres(pgDir, pgPort);
    await waitFor('/readyz to answer 200 again', async () => (await readyz(opsPort)) === 200, 30_000);

    // Drive rounds until every stream's last walk succeeded (a job whose retries ran out while Postgres was
    // down is picked up by the next round from its checkpoint).
    const streams = ['accounts:default', `account-audit:${sim.world.accounts[0]!.id}`, `account-audit-v1:${sim.world.accounts[0]!.id}`, 'user-audit:default'];
    let minute = 10;
    const healed = async () => {
      const res = await check.query<{ stream: string; ok: boolean }>(
        `select stream, last_success_at is not null and last_success_at > coalesce(last_error_at, '-infinity') as ok from sync_state`,
      );
      return streams.every((s) => res.rows.some((r) => r.stream === s && r.ok));
    };
    await waitIdle(redis.url, 60_000);
    while (!(await healed())) {
      if (minute > 60) throw new Error('streams still failing after 10 rounds');
      await daemon.scheduler!.tick(at(minute));
      await waitIdle(redis.url, 60_000);
      minute += 5;
    }

    // The archive is exactly the simulator's, nothing stored twice, no stream walked twice at once.
    await expectAuditExact(check, sim, expect);
    const dup = await duplicateCheck(check);
    expect(dup.rows).toBe(dup.distinct);
    expect(await overlappingRuns(check)).toEqual([]);

    // The Postgres restart failed the walk: recorded as a failed run naming the connection problem (or, when
    // Postgres was still down to record it, closed as abandoned by the next walk), and BullMQ retried the job.
    const failedRuns = (await check.query<{ stream: string; error: string }>(`select stream, error from sync_runs where status = 'failed'`)).rows;
    expect(failedRuns.length).toBeGreaterThan(0);
    const connection = /terminat|connect|ECONNREFUSED|ECONNRESET|shutting down|abandoned|Connection/i;
    for (const r of failedRuns) expect(r.error).toMatch(connection);
    expect(failures.length).toBeGreaterThan(0);
    const retriedIds = new Set(failures.filter((f) => f.id.startsWith('sync|')).map((f) => f.id));
    expect(retriedIds.size, JSON.stringify(failures)).toBeGreaterThan(0);
    const probe = connectRedis(redis.url, 'test-probe');
    const queue = new Queue('sync', { connection: probe });
    try {
      const jobs = await Promise.all([...retriedIds].map((id) => queue.getJob(id)));
      // Every failed sync job was attempted again (attemptsMade counts the failures before the last attempt).
      for (const job of jobs) expect(job?.attemptsMade ?? 0).toBeGreaterThanOrEqual(2);
    } finally {
      await queue.close();
      probe.disconnect();
    }

    // Still healthy: readiness, and a fresh round runs to completion on the same instance.
    expect(await readyz(opsPort)).toBe(200);
    expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
    await daemon.scheduler!.tick(at(minute));
    const counts = await waitIdle(redis.url, 60_000);
    expect(counts.checks!.completed).toBeGreaterThan(0);
    expect(await healed()).toBe(true);
    console.log(`restart: ${failures.length} failed attempts (${[...new Set(failures.map((f) => f.reason.slice(0, 60)))].join(' | ')}); ${failedRuns.length} failed runs; healed by minute ${minute - 5}`);
  });
});
