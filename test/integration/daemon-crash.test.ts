import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultRule, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { V1_ACCOUNT_ROUTE, V1_USER_ROUTE, V2_ROUTE } from '../helpers/audit.js';
import { childEnv, daemonEnv, expectAuditExact, overlappingRuns, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-crash tests');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
const nodes: TestDaemon[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  const slow: FaultRule[] = [V2_ROUTE, V1_ACCOUNT_ROUTE, V1_USER_ROUTE].map((route) => ({ route, kind: 'slow', delayMs: 20 }));
  sim = await startSimulator({ seed: 83, size: { accounts: 1, accountAuditEntries: 8000, accountAuditV1Entries: 300, userAuditEntries: 300, auditDays: 10 }, rateLimit: false, faults: slow });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.allSettled(nodes.map((n) => n.shutdown('test over')));
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

function spawnWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'worker', '--concurrency', '2'], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child.on('exit', (code, signal) => ok({ code, signal })));
  return { child, exited, output: () => out };
}

const archived = async () => (await db.pool.query<{ n: number }>('select count(*)::int as n from audit_logs')).rows[0]!.n;
async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.runIf(REDIS)('worker processes', () => {
  it('SIGTERM stops a worker mid-walk within the bound; SIGKILL mid-walk is recovered by another worker; archive exact', async () => {
    const env = daemonEnv(db.url, sim, redis.url, { FLAREWATCH_AUDIT_PAGE_SIZE: '100', FLAREWATCH_STREAMS: 'accounts,account-audit,account-audit-v1,user-audit' });
    const scheduler = await startTestDaemon(env, { scheduler: true });
    nodes.push(scheduler);
    const at = (min: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + min * 60_000);

    // Round 1 discovers the account; round 2 holds the long account audit walk.
    const first = spawnWorker({ ...env, LOG_LEVEL: 'info' });
    await scheduler.scheduler!.tick(at(0));
    await waitIdle(redis.url, 60_000);
    await scheduler.scheduler!.tick(at(5));
    const base = await archived();
    await waitFor('the walk to be under way', async () => (await archived()) > base + 500, 30_000);

    // SIGTERM: stop taking jobs, abort at the next request, close, exit 0 within the bound.
    const t0 = Date.now();
    first.child.kill('SIGTERM');
    const ended = await first.exited;
    const stopMs = Date.now() - t0;
    if (ended.code !== 0) console.log(first.output().split('\n').slice(-8).join('\n'));
    expect(ended.code).toBe(0);
    expect(stopMs).toBeLessThan(15_000);

    // A second worker picks the interrupted job up (retry) and is SIGKILLed mid-walk in turn.
    const second = spawnWorker(env);
    const before = await archived();
    await waitFor('the second walker to make progress', async () => (await archived()) > before + 500, 30_000);
    second.child.kill('SIGKILL');
    expect((await second.exited).signal).toBe('SIGKILL');

    // A third worker (in-process) finishes: BullMQ's stalled check hands the job on, the checkpoint resumes it.
    const third = await startTestDaemon(env, { workers: true, concurrency: 2 });
    nodes.push(third);
    const counts = await waitIdle(redis.url, 60_000);
    expect(counts.sync!.failed).toBe(0);
    await expectAuditExact(db.pool, sim, expect);
    expect(await overlappingRuns(db.pool)).toEqual([]);
    console.log(`SIGTERM to exit: ${stopMs} ms`);
  });
});
