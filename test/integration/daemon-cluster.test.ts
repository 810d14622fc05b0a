import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncJobId } from '../../src/jobs/ids.js';
import { type FaultRule, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { V1_ACCOUNT_ROUTE, V1_USER_ROUTE, V2_ROUTE } from '../helpers/audit.js';
import { daemonEnv, expectAuditExact, overlappingRuns, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-cluster tests');

// Two scheduler replicas and three workers on one Redis and one Postgres, ticks driven by the test.
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
const nodes: TestDaemon[] = [];

beforeAll(async () => {
  // Slow audit pages so a walk is still running when the next tick enqueues the same stream.
  const slow: FaultRule[] = [V2_ROUTE, V1_ACCOUNT_ROUTE, V1_USER_ROUTE].map((route) => ({ route, kind: 'slow', delayMs: 15 }));
  sim = await startSimulator({ seed: 61, size: { accounts: 2, accountAuditEntries: 3000, accountAuditV1Entries: 400, userAuditEntries: 400, auditDays: 10 }, rateLimit: false, faults: slow });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
});

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.shutdown('test over')));
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

describe.runIf(REDIS)('two schedulers, three workers', () => {
  it('enqueue one job per (stream, tick), never walk a stream twice at once, and archive exactly', async () => {
    const env = daemonEnv(db.url, sim, redis.url, { FLAREWATCH_AUDIT_PAGE_SIZE: '200' });
    const schedulers = await Promise.all([startTestDaemon(env, { scheduler: true }), startTestDaemon(env, { scheduler: true })]);
    const workers = await Promise.all([1, 2, 3].map(() => startTestDaemon(env, { workers: true, concurrency: 3 })));
    nodes.push(...schedulers, ...workers);

    const base = Date.parse('2030-01-01T00:00:00Z');
    const at = (min: number, sec = 0) => new Date(base + min * 60_000 + sec * 1000);
    const expected = new Set<string>();
    const tickBoth = async (when: Date) => {
      const results = await Promise.all(schedulers.map((s) => s.scheduler!.tick(when)));
      // Both replicas planned the same tick; their stream lists can differ only by what the other's
      // round already walked (a stream's first walk), and each (stream, tick) is one job id.
      expect(results[1]!.tick).toBe(results[0]!.tick);
      for (const r of results) for (const s of r.streams) expected.add(syncJobId(s, r.tick));
      return results[0]!;
    };

    // First tick: nothing known yet, so every credential's streams plus 'accounts:default' (never attempted).
    const first = await tickBoth(at(0, 10));
    expect(first.groups).toEqual(['audit', 'inventory']);
    expect(first.streams).toContain('accounts:default');
    await waitIdle(redis.url, 60_000);
    // Minute 5 (audit) picks up the account streams discovered by the first round; minute 10 comes
    // while minute 5's walks run, so some of its jobs find their stream locked and are skipped.
    const second = await tickBoth(at(5, 3));
    expect(second.groups).toEqual(['audit']);
    expect(second.streams).toContain(`account-audit:${sim.world.accounts[0]!.id}`);
    await new Promise((r) => setTimeout(r, 300));
    await tickBoth(at(10, 59));
    await tickBoth(at(60, 1));
    const counts = await waitIdle(redis.url, 90_000);

    const completed = workers.flatMap((w) => w.completed.filter((id) => id.startsWith('sync|')));
    expect(new Set(completed).size).toBe(completed.length);
    expect(new Set(completed)).toEqual(expected);
    expect(counts.sync!.failed).toBe(0);
    // Each round ran its checks and its alerts stage once.
    expect(counts.checks!.completed, JSON.stringify(counts)).toBe(4);
    expect(counts.alerts!.completed).toBe(4);
    expect(await overlappingRuns(db.pool)).toEqual([]);
    const skipped = workers.flatMap((w) => w.logLines.filter((l) => l.includes('"status":"skipped"'))).length;
    const walked = (await db.pool.query<{ n: number }>('select count(*)::int as n from sync_runs')).rows[0]!.n;
    expect(walked + skipped).toBe(expected.size);
    await expectAuditExact(db.pool, sim, expect);
    // One line at the start and one at the end of each job, scoped.
    const line = JSON.parse(workers[0]!.logLines.find((l) => l.includes('"job finished"') && l.includes('sync.stream'))!);
    expect(line).toMatchObject({ queue: 'sync', job: 'sync.stream', attempt: 1 });
    expect(line.jobId).toMatch(/^sync\|/);
    expect(line.stream).toBeTruthy();
  });
});
