import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-credentials tests');

// The daemon with two users' credentials: one limiter per user, shared by every worker through
// Redis. Each stays under its own limit (no 429) while both are walked at once.
const LIMIT = { requests: 20, windowMs: 3_000 };
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
let dir: string;
const nodes: TestDaemon[] = [];

beforeAll(async () => {
  sim = await startSimulator({ seed: 72, size: { accounts: 3, users: 2, accountAuditEntries: 600, accountAuditV1Entries: 150, userAuditEntries: 150, extraUserAuditEntries: 150, auditDays: 10 }, rateLimit: LIMIT });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
  dir = mkdtempSync(join(tmpdir(), 'flarewatch-daemon-creds-'));
});

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.shutdown('test over')));
  await sim?.close();
  await redis?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(REDIS)('a daemon with two credentials', () => {
  it('paces each credential by its own limit through Redis: zero 429s, one limiter per user, both users walked at once', async () => {
    const alice = sim.issueCredential({ kind: 'user-token', user: 0, prefix: true });
    const bob = sim.issueCredential({ kind: 'user-token', user: 1, prefix: true });
    const config = join(dir, 'flarewatch.json');
    const value = (c: typeof alice) => (c.kind === 'user-token' ? c.value : '');
    writeFileSync(config, JSON.stringify({ cloudflare: { credentials: [{ name: 'alice', apiToken: value(alice) }, { name: 'bob', apiToken: value(bob) }] } }));
    const env = daemonEnv(db.url, sim, redis.url, {
      CLOUDFLARE_API_TOKEN: '', FLAREWATCH_CONFIG: config, FLAREWATCH_RATE_LIMIT: '20/3s', FLAREWATCH_RATE_LIMIT_MARGIN: '0.05', FLAREWATCH_AUDIT_PAGE_SIZE: '20',
    });
    const scheduler = await startTestDaemon(env, { scheduler: true });
    const workers = await Promise.all([1, 2].map(() => startTestDaemon(env, { workers: true, concurrency: 4 })));
    nodes.push(scheduler, ...workers);
    const at = (min: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + min * 60_000);
    await scheduler.scheduler!.tick(at(0));
    await waitIdle(redis.url, 120_000);
    await scheduler.scheduler!.tick(at(5));
    await waitIdle(redis.url, 120_000);

    expect(sim.stats.byStatus[429] ?? 0).toBe(0);
    const principals = Object.keys(sim.stats.byPrincipal).sort();
    expect(principals).toEqual([`user:${sim.world.users[0]!.user.id}`, `user:${sim.world.users[1]!.user.id}`].sort());
    const busiest = (times: number[]) => Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + LIMIT.windowMs).length));
    for (const p of principals) expect(busiest(sim.stats.log.filter((l) => l.principal === p).map((l) => l.at)), p).toBeLessThanOrEqual(LIMIT.requests);
    // Two budgets, not one: every worker paces each user by a limiter of that user's own. (How much
    // of both limits a busy daemon uses together is a throughput figure: `npm run bench` measures it.)
    const users = sim.world.users.map((u) => `user:${u.user.id}`).sort();
    for (const w of workers) {
      const series = (await w.metrics.registry.getSingleMetric('flarewatch_rate_limit_waits_total')!.get()).values;
      expect(series.map((v) => String(v.labels.limit)).filter((l) => l.startsWith('user:')).sort()).toEqual(users);
    }
    // ...and the two users were walked at the same time, not one after the other.
    const span = (p: string) => { const t = sim.stats.log.filter((l) => l.principal === p).map((l) => l.at); return [Math.min(...t), Math.max(...t)] as const; };
    const [a, b] = principals.map(span) as [readonly [number, number], readonly [number, number]];
    expect(a[0] < b[1] && b[0] < a[1]).toBe(true);
    // Each user's own streams were walked by its own credential.
    const runs = (await db.pool.query<{ stream: string; credential: string }>(`select distinct stream, credential from sync_runs where stream like 'user-audit:%' order by stream`)).rows;
    expect(runs).toEqual([{ stream: 'user-audit:alice', credential: 'alice' }, { stream: 'user-audit:bob', credential: 'bob' }]);
  });
});
