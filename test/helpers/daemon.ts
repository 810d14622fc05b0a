import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import type pg from 'pg';
import { type Config, ENV_KEYS, loadConfig } from '../../src/config.js';
import { QUEUES } from '../../src/jobs/catalog.js';
import { type Daemon, startDaemon } from '../../src/jobs/daemon.js';
import { connectRedis } from '../../src/jobs/redis.js';
import { createLogger } from '../../src/log.js';
import type { Simulator } from '../../src/simulator/index.js';
import { dbDigest, simDigest } from './audit.js';

/** Settings for a daemon under test: short locks and retries, no metrics port, no audit lag. */
export function daemonEnv(databaseUrl: string, sim: Simulator, redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    CLOUDFLARE_BASE_URL: sim.url,
    CLOUDFLARE_API_TOKEN: sim.credentials.apiToken,
    FLAREWATCH_AUDIT_LAG: '0s',
    FLAREWATCH_HTTP_PORT: '0',
    FLAREWATCH_JOB_LOCK_DURATION: '2s',
    FLAREWATCH_SHUTDOWN_TIMEOUT: '10s',
    FLAREWATCH_MAX_RETRIES: '2',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** The environment for a child flarewatch process: the runner's own flarewatch settings never leak in. */
export function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!(k in ENV_KEYS) && !k.endsWith('_FILE') && k !== 'FLAREWATCH_CONFIG') env[k] = v;
  return { ...env, ...vars };
}

export interface TestDaemon extends Daemon {
  logLines: string[];
  /** jobId of every job this daemon's workers completed. */
  completed: string[];
}

/** An in-process scheduler and/or worker, ticks driven by the test (no cron). */
export async function startTestDaemon(
  env: Record<string, string>, role: { scheduler?: boolean; workers?: boolean; concurrency?: number },
  timings: { redisReminderMs?: number } = {},
): Promise<TestDaemon> {
  const config: Config = loadConfig(env);
  const logLines: string[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { logLines.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });
  const log = createLogger({ level: 'info', format: 'json', secrets: [], destination: sink });
  const daemon = await startDaemon(config, {
    redisUrl: config.redis.url!, scheduler: role.scheduler ?? false, workers: role.workers ?? false, concurrency: role.concurrency,
    log, cron: false, timings: { retryDelayMs: 500, ...timings },
  });
  const completed: string[] = [];
  for (const w of daemon.pool?.workers ?? []) w.on('completed', (job) => completed.push(job.id!));
  return { ...daemon, logLines, completed };
}

/** Job counts in every queue. */
export async function queueCounts(redisUrl: string): Promise<Record<string, Record<string, number>>> {
  const redis = connectRedis(redisUrl, 'test-probe');
  try {
    const out: Record<string, Record<string, number>> = {};
    for (const name of QUEUES) {
      const q = new Queue(name, { connection: redis });
      out[name] = await q.getJobCounts('waiting', 'active', 'delayed', 'waiting-children', 'prioritized', 'completed', 'failed');
      await q.close();
    }
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Wait until no queue has a job left to run. */
export async function waitIdle(redisUrl: string, timeoutMs: number): Promise<Record<string, Record<string, number>>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const counts = await queueCounts(redisUrl).catch(() => undefined);
    const pending = counts && Object.values(counts).reduce((n, c) => n + c.waiting! + c.active! + c.delayed! + c['waiting-children']! + c.prioritized!, 0);
    if (counts && pending === 0) return counts;
    if (Date.now() > end) throw new Error(`queues not idle after ${timeoutMs} ms: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every audit stream of the simulator archived exactly (same ids, same content). */
export async function expectAuditExact(pool: pg.Pool, sim: Simulator, expect: (a: unknown) => { toEqual(b: unknown): void }): Promise<void> {
  for (const account of sim.world.accounts) {
    expect(await dbDigest(pool, 'account-v2', account.id)).toEqual(simDigest(sim, 'account-v2', account.id));
    expect(await dbDigest(pool, 'account-v1', account.id)).toEqual(simDigest(sim, 'account-v1', account.id));
  }
  expect(await dbDigest(pool, 'user-v1')).toEqual(simDigest(sim, 'user-v1'));
}

/** Pairs of runs of one stream whose [started, finished] intervals overlap: none when walks never ran at once. */
export async function overlappingRuns(pool: pg.Pool): Promise<Array<{ stream: string; a: number; b: number }>> {
  const res = await pool.query<{ stream: string; a: number; b: number }>(`
    select r1.stream, r1.id::int as a, r2.id::int as b
      from sync_runs r1 join sync_runs r2 on r1.stream = r2.stream and r1.id < r2.id
     where tstzrange(r1.started_at, coalesce(r1.finished_at, now())) && tstzrange(r2.started_at, coalesce(r2.finished_at, now()))`);
  return res.rows;
}
