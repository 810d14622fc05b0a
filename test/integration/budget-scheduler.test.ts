// The budget plan through the daemon's own path: the scheduler's tick plans the round and enqueues
// it as a BullMQ flow on a real redis-server, workers take the jobs and walk the simulator into a real
// PostgreSQL. With a budget too small for the round, the streams the plan defers are not walked in
// that round, and are walked in a later one before they pass their maximum staleness. Time is an
// injected clock (one round an hour), as in the budget-plan test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { slidingWindowLimiter, type RequestLimiter } from '../../src/cloudflare/rate-limit.js';
import { credentialAccesses } from '../../src/credentials/access.js';
import type { LimiterRegistry } from '../../src/credentials/limiters.js';
import type { Context } from '../../src/context.js';
import { syncJobId } from '../../src/jobs/ids.js';
import { connectRedis } from '../../src/jobs/redis.js';
import { Scheduler } from '../../src/jobs/schedules.js';
import { startWorkers, type WorkerPool } from '../../src/jobs/worker.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { maxStalenessOf } from '../../src/sync/budget-round.js';
import { AUDIT_KINDS } from '../../src/sync/catalog.js';
import { testContext } from '../helpers/context.js';
import { waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const HOUR = 3_600_000;
const LIMIT = 400;
let clock = Date.parse('2030-03-01T00:00:00Z');
const now = () => clock;
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
let ctx: Context;
let pool: WorkerPool;
const connections: Array<ReturnType<typeof connectRedis>> = [];
const stop = new AbortController();
/** Id of every sync job the workers completed (`sync|<stream>|<tick>`). */
const walkedByJob: string[] = [];

function clockLimiters(): LimiterRegistry {
  const all = new Map<string, RequestLimiter>();
  return { all, get: (key, s) => all.get(key) ?? all.set(key, slidingWindowLimiter(s, now)).get(key)! };
}

const connection = () => {
  const c = connectRedis(redis.url, 'budget-scheduler-test');
  connections.push(c);
  return c;
};

beforeAll(async () => {
  // Big listings that may wait (organisations and IP rules 12 pages, 6 h; billing 48 pages, 24 h) beside what may not.
  sim = await startSimulator({
    seed: 31, now, rateLimit: { requests: LIMIT, windowMs: HOUR },
    size: { accounts: 2, organizations: 600, ipAccessRules: 600, billingHistory: 2400, userAuditEntries: 40, accountAuditEntries: 80, accountAuditV1Entries: 40, auditDays: 3 },
  });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
  const base = testContext(db, sim, {
    FLAREWATCH_RATE_LIMIT: `${LIMIT}/1h`, FLAREWATCH_RATE_LIMIT_MARGIN: '0', LOG_LEVEL: 'warn',
    FLAREWATCH_SCHEDULE_AUDIT: '0 * * * *', FLAREWATCH_SCHEDULE_INVENTORY: '0 * * * *', FLAREWATCH_CREDENTIAL_VERIFY_INTERVAL: '1000d',
  });
  ctx = { ...base, now: () => new Date(clock), credentials: credentialAccesses(base.config, { registry: clockLimiters() }) };
  pool = startWorkers(ctx, { connection: connection(), concurrency: 4, shutdown: stop.signal, lockDurationMs: 5_000, stalledIntervalMs: 5_000 });
  for (const w of pool.workers) w.on('completed', (job) => { if (job.name === 'sync.stream') walkedByJob.push(job.id!); });
});
afterAll(async () => {
  stop.abort('test over');
  await pool?.close();
  for (const c of connections) c.disconnect();
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

const withShare = (share: number): Context => ({ ...ctx, config: { ...ctx.config, budget: { ...ctx.config.budget, share } } });

/** One tick of both schedules at the clock, run to the end by the workers; the streams walked since the tick. */
async function round(scheduler: Scheduler): Promise<{ enqueued: string[]; walked: string[]; deferred: string[]; byJob: string[] }> {
  const at = new Date(clock);
  const from = walkedByJob.length;
  const { streams, tick } = await scheduler.tick(at, ['audit', 'inventory']);
  const t0 = Date.now();
  await waitIdle(redis.url, 300_000);
  console.log(`round at ${at.toISOString()}: ${streams.length} streams enqueued, idle after ${Date.now() - t0} ms`);
  const walked = await db.pool.query<{ stream: string }>(`select distinct stream from sync_runs where started_at >= $1 order by 1`, [at.toISOString()]);
  const plan = await db.pool.query<{ deferred: string[] }>(`select deferred from budget_rounds where round_at = $1`, [at.toISOString()]);
  const done = new Set(walkedByJob.slice(from));
  const all = await scheduler.streamsFor(['audit', 'inventory']);
  return { enqueued: [...streams].sort(), walked: walked.rows.map((r) => r.stream), deferred: plan.rows.flatMap((r) => r.deferred).sort(),
    byJob: all.filter((s) => done.has(syncJobId(s, tick))).sort() };
}

async function lastSuccess(): Promise<Map<string, number>> {
  const rows = await ctx.db.execute<{ stream: string; at: string }>(sql`select stream, last_success_at::text as at from sync_state where last_success_at is not null`);
  return new Map(rows.rows.map((r) => [r.stream, Date.parse(r.at)]));
}

describe('the budget plan through the scheduler and BullMQ', () => {
  it('a deferred stream is not walked in its round and is walked in a later one, within its maximum staleness', async () => {
    const open = new Scheduler(ctx, connection(), { retryDelayMs: 500 });
    // Unshaped (no limit known yet): the first round discovers the accounts, the second walks their streams.
    for (const _ of [1, 2]) {
      await round(open);
      clock += HOUR;
    }
    await open.close();
    const needs = (await ctx.db.execute<{ n: number }>(sql`select sum(requests)::int as n from (select distinct on (stream) requests from sync_runs
      where status = 'succeeded' order by stream, started_at desc) x`)).rows[0]!.n;
    const c = withShare((0.3 * needs) / LIMIT);
    const scheduler = new Scheduler(c, connection(), { retryDelayMs: 500 });
    const deferredAt = new Map<string, number>();
    const caughtUp: Array<{ stream: string; waitedMs: number; max: number }> = [];
    try {
      for (let r = 0; r < 10; r++, clock += HOUR) {
        const { enqueued, walked, deferred, byJob } = await round(scheduler);
        // The tick enqueued exactly the plan's streams; the workers walked those and nothing the plan deferred.
        expect(walked).toEqual(enqueued);
        expect(byJob).toEqual(enqueued);
        expect(deferred.filter((s) => walked.includes(s))).toEqual([]);
        for (const s of walked) {
          const since = deferredAt.get(s);
          if (since !== undefined) caughtUp.push({ stream: s, waitedMs: clock - since, max: maxStalenessOf(c.config, s) });
          deferredAt.delete(s);
        }
        for (const s of deferred) if (!deferredAt.has(s)) deferredAt.set(s, clock);
        // Every audit stream each round; no inventory stream past its maximum staleness.
        const seen = await lastSuccess();
        for (const s of await scheduler.streamsFor(['audit', 'inventory'])) {
          const staleness = clock - (seen.get(s) ?? -Infinity);
          if (AUDIT_KINDS.includes(s.split(':')[0]!)) expect({ s, staleness }).toEqual({ s, staleness: 0 });
          else expect({ s, within: staleness <= maxStalenessOf(c.config, s) }).toEqual({ s, within: true });
        }
      }
    } finally {
      await scheduler.close();
    }
    // The budget had to choose, and what it put off came back in time.
    expect(caughtUp.length).toBeGreaterThan(0);
    for (const x of caughtUp) expect({ stream: x.stream, within: x.waitedMs <= x.max }).toEqual({ stream: x.stream, within: true });
    expect(sim.stats.byStatus[429] ?? 0).toBe(0);
  }, 900_000);
});
