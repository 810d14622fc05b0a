import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, expectAuditExact, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-ratelimit tests');

// Cloudflare's 1200 / 5 min scaled down: 30 requests / 3 s, fixed windows, blocked for a window past it.
const LIMIT = { requests: 30, windowMs: 3_000 };
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
const nodes: TestDaemon[] = [];

beforeAll(async () => {
  sim = await startSimulator({ seed: 71, size: { accounts: 3, accountAuditEntries: 1000, accountAuditV1Entries: 150, userAuditEntries: 150, auditDays: 10 }, rateLimit: LIMIT });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
});

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.shutdown('test over')));
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

describe.runIf(REDIS)('the shared rate limit', () => {
  it('keeps three workers under the limit together (no 429) with demand of many windows', async () => {
    const env = daemonEnv(db.url, sim, redis.url, { FLAREWATCH_RATE_LIMIT: '30/3s', FLAREWATCH_RATE_LIMIT_MARGIN: '0.05', FLAREWATCH_AUDIT_PAGE_SIZE: '25' });
    const scheduler = await startTestDaemon(env, { scheduler: true });
    const workers = await Promise.all([1, 2, 3].map(() => startTestDaemon(env, { workers: true, concurrency: 4 })));
    nodes.push(scheduler, ...workers);
    const at = (min: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + min * 60_000);
    await scheduler.scheduler!.tick(at(0));
    await waitIdle(redis.url, 60_000);
    // Measure the second round alone (the account audit streams, known now): demand beyond the limit throughout.
    await new Promise((r) => setTimeout(r, LIMIT.windowMs));
    expect(sim.stats.byStatus[429] ?? 0).toBe(0);
    sim.stats.reset();
    await scheduler.scheduler!.tick(at(5));
    await waitIdle(redis.url, 90_000);

    const limited = sim.stats.log.filter((e) => e.status === 429).map((e) => e.at);
    expect(limited.length).toBe(0);
    // Demand of many windows' worth, so the workers had to be held back together, not merely lucky.
    expect(sim.stats.total).toBeGreaterThan(3 * LIMIT.requests);
    // How much of the limit is used is a timing figure: the bench measures it (pacing), a test must not.
    const times = sim.stats.log.map((e) => e.at).sort((a, b) => a - b);
    const windows = Math.max(1, Math.floor((times.at(-1)! - times[0]!) / LIMIT.windowMs));
    console.log(`rate limit: ${sim.stats.total} requests over ~${windows} windows of ${LIMIT.requests}/${LIMIT.windowMs}ms, 0 limited`);
    // Every worker drew from the one limit.
    for (const w of workers) expect(w.completed.length).toBeGreaterThan(0);
    await expectAuditExact(db.pool, sim, expect);
  });
});
