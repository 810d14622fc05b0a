// A scheduler replica that enqueues a tick's round late (a slow plan, a missed tick caught up) must
// not walk a stream a second time. Job ids make its add a no-op only while the completed jobs of
// that round are still in Redis; the retention count is made tiny here (a test-only option standing
// for the 5,000 floor) so a round of a few streams outgrows it, as 11,501 streams outgrow 5,000.
// Real redis-server, workers, simulator and PostgreSQL; time is an injected clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import { alertsJobId, checksJobId, syncJobId, verifyJobId } from '../../src/jobs/ids.js';
import { connectRedis } from '../../src/jobs/redis.js';
import { Scheduler } from '../../src/jobs/schedules.js';
import { startWorkers, type WorkerPool } from '../../src/jobs/worker.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { testContext } from '../helpers/context.js';
import { waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'replica late-round tests');
const HOUR = 3_600_000;
/** Completed jobs kept at least: far fewer than a round's streams. */
const KEEP_MIN = 2;
let clock = Date.parse('2030-03-01T00:00:00Z');
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
let ctx: Context;
let pool: WorkerPool;
const connections: Array<ReturnType<typeof connectRedis>> = [];
const stop = new AbortController();
/** Id of every job the workers completed, in order (a repeated id is a second run). */
const completed: string[] = [];

const connection = () => {
  const c = connectRedis(redis.url, 'replica-late-round-test');
  connections.push(c);
  return c;
};

beforeAll(async () => {
  sim = await startSimulator({ seed: 17, now: () => clock, rateLimit: false, size: { accounts: 2, userAuditEntries: 5, accountAuditEntries: 5, accountAuditV1Entries: 5, auditDays: 1 } });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
  const base = testContext(db, sim, { LOG_LEVEL: 'warn', FLAREWATCH_SCHEDULE_AUDIT: '0 * * * *', FLAREWATCH_SCHEDULE_INVENTORY: '0 * * * *' });
  ctx = { ...base, now: () => new Date(clock) };
  pool = startWorkers(ctx, { connection: connection(), concurrency: 4, shutdown: stop.signal, lockDurationMs: 5_000, stalledIntervalMs: 5_000 });
  for (const w of pool.workers) w.on('completed', (job) => completed.push(job.id!));
});
afterAll(async () => {
  stop.abort('test over');
  await pool?.close();
  for (const c of connections) c.disconnect();
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

/** sync_runs per stream started at or after `from` (each run is one walk of the stream). */
async function walksSince(from: Date): Promise<Map<string, number>> {
  const rows = await db.pool.query<{ stream: string; n: number }>(`select stream, count(*)::int as n from sync_runs where started_at >= $1 group by 1`, [from.toISOString()]);
  return new Map(rows.rows.map((r) => [r.stream, r.n]));
}

describe.runIf(REDIS)('a replica that enqueues a finished round again', () => {
  it('walks no stream of a round larger than the retention floor a second time, and runs no checks or alerts again', async () => {
    const first = new Scheduler(ctx, connection(), { retryDelayMs: 500, keepCompletedMin: KEEP_MIN });
    const late = new Scheduler(ctx, connection(), { retryDelayMs: 500, keepCompletedMin: KEEP_MIN });
    try {
      // The first round discovers the accounts; the second is the full round the late replica repeats.
      await first.tick(new Date(clock), ['audit', 'inventory']);
      await waitIdle(redis.url, 300_000);
      clock += HOUR;
      const at = new Date(clock);
      const { streams, tick } = await first.tick(at, ['audit', 'inventory']);
      await waitIdle(redis.url, 300_000);
      expect(streams.length).toBeGreaterThan(4 * KEEP_MIN);
      const before = await walksSince(at);
      expect([...before.keys()].sort()).toEqual([...streams].sort());
      // Then a smaller round (audit streams only) and the daily verification, whose completions trim the
      // sync queue's completed jobs to their own counts: neither may trim the full round away.
      clock += HOUR;
      const next = await first.tick(new Date(clock), ['audit', 'verify']);
      await waitIdle(redis.url, 300_000);
      expect(next.streams.length).toBeLessThan(streams.length);
      expect(completed).toContain(verifyJobId(next.tick));

      // The late replica plans and enqueues the full round's tick again (its ids, the database as it is now).
      const again = await late.tick(at, ['audit', 'inventory']);
      await waitIdle(redis.url, 300_000);
      expect([...again.streams].sort()).toEqual([...streams].sort());
      // Each stream of the full round walked once: the late replica's adds were all no-ops.
      const runs = (id: string) => completed.filter((c) => c === id).length;
      expect(streams.filter((s) => runs(syncJobId(s, tick)) !== 1)).toEqual([]);
      const walks = await walksSince(at);
      const expected = new Map(streams.map((s) => [s, 1 + (next.streams.includes(s) ? 1 : 0)]));
      expect([...walks].filter(([s, n]) => expected.get(s) !== n)).toEqual([]);
      // The round's parents had completed: a late add does not run checks or alerts of that tick again.
      expect(runs(checksJobId(tick))).toBe(1);
      expect(runs(alertsJobId(tick))).toBe(1);

      // What keeping a completed sync job costs Redis (its hash; its entry in the completed set and the parent's processed hash come on top).
      const probe = connection();
      const bytes = await probe.call('MEMORY', 'USAGE', `bull:sync:${syncJobId(streams[0]!, tick)}`) as number | null;
      const processed = await probe.call('MEMORY', 'USAGE', `bull:checks:${checksJobId(tick)}:processed`) as number | null;
      const fields = await probe.hgetall(`bull:sync:${syncJobId(streams[0]!, tick)}`);
      console.log(`a completed sync job: hash ${bytes} bytes (returnvalue ${fields.returnvalue?.length ?? 0}, opts ${fields.opts?.length ?? 0}); ` +
        `its parent's processed entry ${Math.round((processed ?? 0) / streams.length)} bytes; round of ${streams.length} streams`);
      expect(bytes).toBeGreaterThan(0);
    } finally {
      await first.close();
      await late.close();
    }
  }, 600_000);
});
