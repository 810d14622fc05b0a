// A round's jobs reach the workers interleaved by budget: two credentials of two users (two rate-limit
// budgets at the same rate) through the scheduler's tick, a BullMQ flow on a real redis-server and
// a worker taking one job at a time, walking the simulator into a real PostgreSQL. In the planner's
// order a credential's streams came in runs (its ten user-level listings, then account by account),
// so the walks of one budget filled the worker slots, waiting on its limiter, while the other
// budget sat idle with its jobs queued behind them (the round bench's profile).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { connectRedis } from '../../src/jobs/redis.js';
import { Scheduler } from '../../src/jobs/schedules.js';
import { ACCOUNT_STREAMS } from '../../src/sync/catalog.js';
import { startWorkers, type WorkerPool } from '../../src/jobs/worker.js';
import { type IssuedCredential, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
let ctx: TestContext;
let pool: WorkerPool;
const connections: Array<ReturnType<typeof connectRedis>> = [];
const stop = new AbortController();
/** Streams in the order the worker took their jobs. */
const taken: string[] = [];

const connection = () => {
  const c = connectRedis(redis.url, 'round-order-test');
  connections.push(c);
  return c;
};

beforeAll(async () => {
  sim = await startSimulator({
    seed: 37, rateLimit: false,
    size: { accounts: 4, users: 1, membersPerAccount: 2, accountTokensPerAccount: 1, accountAuditEntries: 5, accountAuditV1Entries: 2, userAuditEntries: 2, auditDays: 1 },
  });
  const ids = sim.world.accounts.map((a) => a.id);
  const credentials = [0, 1].map((k) => {
    const u = sim.world.addUser({ accounts: ids.slice(2 * k, 2 * k + 2) });
    const c = sim.issueCredential({ kind: 'user-token', user: sim.world.users.indexOf(u) }) as Extract<IssuedCredential, { kind: 'user-token' }>;
    return { name: `c${k}`, apiToken: c.value };
  });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
  ctx = testContext(db, sim, { FLAREWATCH_RATE_LIMIT: '1200/5m', LOG_LEVEL: 'warn', FLAREWATCH_AUDIT_LAG: '0s' }, credentials);
  pool = startWorkers(ctx, { connection: connection(), concurrency: 1, shutdown: stop.signal, lockDurationMs: 5_000, stalledIntervalMs: 5_000 });
  pool.workers.find((w) => w.name === 'sync')!.on('active', (job: Job) => taken.push((job.data as { stream: string }).stream));
});
afterAll(async () => {
  stop.abort('test over');
  await pool?.close();
  for (const c of connections) c.disconnect();
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

describe('the order a round is enqueued in', () => {
  it('charges new accounts\' streams to their own budgets, and alternates the budgets in proportion to their rates, so neither waits behind a run of the other', async () => {
    const scheduler = new Scheduler(ctx, connection(), { retryDelayMs: 500 });
    let minute = Math.ceil(Date.now() / 60_000) * 60_000;
    try {
      // The first tick discovers the accounts, the second walks every stream once (their costs and walkers known after it).
      const ticks: string[] = [];
      for (const _ of [1, 2]) {
        ticks.push((await scheduler.tick(new Date((minute += 60_000)), ['audit', 'inventory'])).tick);
        await waitIdle(redis.url, 120_000);
      }
      // The second round planned each new account's streams against the budget of the credential that reaches it
      // (before, every never-walked account stream was charged to the first credential's budget).
      const planned = await db.pool.query<{ c: string; planned: number }>(
        `select credentials[1] as c, planned from budget_rounds where round_at = $1 order by 1`, [ticks[1]]);
      const perAccount = Object.keys(ACCOUNT_STREAMS).length;
      expect(planned.rows.map((r) => r.c)).toEqual(['c0', 'c1']);
      for (const r of planned.rows) expect({ c: r.c, atLeastItsAccounts: r.planned >= 2 * perAccount, notTheOthers: r.planned < 4 * perAccount })
        .toEqual({ c: r.c, atLeastItsAccounts: true, notTheOthers: true });
      const from = taken.length;
      const { streams } = await scheduler.tick(new Date((minute += 60_000)), ['audit', 'inventory']);
      await waitIdle(redis.url, 120_000);
      const order = taken.slice(from);
      expect([...order].sort()).toEqual([...streams].sort());

      const runs = await db.pool.query<{ stream: string; credential: string; requests: number }>(
        `select distinct on (stream) stream, credential, requests from sync_runs where status = 'succeeded' order by stream, started_at desc`);
      const walk = new Map(runs.rows.map((r) => [r.stream, r]));
      const total = (c: string) => order.filter((s) => walk.get(s)!.credential === c).reduce((t, s) => t + walk.get(s)!.requests, 0);
      const bound = Math.min(total('c0'), total('c1'));
      const largest = Math.max(...order.map((s) => walk.get(s)!.requests));
      expect(new Set(order.map((s) => walk.get(s)!.credential))).toEqual(new Set(['c0', 'c1']));
      // Until one budget's streams run out, the requests taken for each never drift apart by more than one stream's.
      const spent = new Map([['c0', 0], ['c1', 0]]);
      const drift: number[] = [];
      for (const s of order) {
        const { credential, requests } = walk.get(s)!;
        spent.set(credential, spent.get(credential)! + requests);
        const [a, b] = [spent.get('c0')!, spent.get('c1')!];
        if (a <= bound && b <= bound) drift.push(Math.abs(a - b));
      }
      expect(Math.max(...drift)).toBeLessThanOrEqual(largest);
    } finally {
      await scheduler.close();
    }
  }, 600_000);
});
