import { setMaxListeners } from 'node:events';
import { type App, openApp } from '../app.js';
import { type Config, ConfigError } from '../config.js';
import { credentialAccesses } from '../credentials/access.js';
import { preflight } from '../credentials/identity.js';
import { redisLimiters } from '../credentials/limiters.js';
import { validateSelection } from '../sync/catalog.js';
import type { Context } from '../context.js';
import type { Logger } from '../log.js';
import { countedFetch, createMetrics, type Metrics } from '../ops/metrics.js';
import { type OpsServer, startOpsServer } from '../ops/server.js';
import { createQueueUi } from '../ops/queue-ui.js';
import { queuePauses } from '../ops/queue-state.js';
import { assertRedisReachable, connectRedis } from './redis.js';
import { watchRedisHealth } from './redis-health.js';
import { Scheduler, type SchedulerOptions } from './schedules.js';
import { startWorkers, type WorkerPool, type WorkerPoolOptions } from './worker.js';

export interface DaemonOptions {
  redisUrl: string;
  scheduler: boolean;
  workers: boolean;
  concurrency?: number;
  log?: Logger;
  /** false: no cron heartbeat; the caller drives `scheduler.tick(at)` (tests). */
  cron?: boolean;
  /** Tests: shorter BullMQ lock / stalled timings and retry delays. */
  timings?: Pick<WorkerPoolOptions, 'lockDurationMs' | 'stalledIntervalMs'> & SchedulerOptions & { redisReminderMs?: number };
}

export interface Daemon {
  app: App;
  ctx: Context;
  metrics: Metrics;
  scheduler?: Scheduler;
  pool?: WorkerPool;
  ops?: OpsServer;
  /** Stop taking jobs, abort walks at the next request, close everything; bounded by daemon.shutdownTimeout. */
  shutdown(reason?: string): Promise<void>;
}

/** Scheduler and/or workers in this process, with the operations server. Migrations run first (openApp). */
export async function startDaemon(config: Config, opts: DaemonOptions): Promise<Daemon> {
  const concurrency = opts.concurrency ?? config.daemon.concurrency;
  // Checked before anything starts: a misspelt kind would otherwise enqueue nothing, for ever.
  validateSelection(config.sync.streams, config.cloudflare.credentials.map((c) => c.name));
  await assertRedisReachable(opts.redisUrl, opts.redisUrl === config.redis.url ? 'REDIS_URL' : 'the private redis-server');
  const app = await openApp(config, { log: opts.log, requireCredentials: true, walks: opts.workers ? concurrency : 0 });
  const redis = connectRedis(opts.redisUrl, opts.workers ? 'flarewatch-worker' : 'flarewatch-scheduler');
  const stop = new AbortController();
  // Every running job listens to it (AbortSignal.any): as many listeners as jobs at once.
  setMaxListeners(0, stop.signal);
  let pool: WorkerPool | undefined;
  // One limiter per user or account token, shared by every process through Redis.
  const registry = redisLimiters(redis, config.cloudflare.rateLimitMargin);
  const pauses = queuePauses(redis);
  const metrics = createMetrics({ db: app.ctx.db, queueDepths: () => pool?.queueDepths() ?? Promise.resolve({}), limiters: registry.all, queuePaused: () => pauses.paused(), config: app.ctx.config });
  const credentials = credentialAccesses(config, { registry, wrapFetch: (name, inner) => countedFetch(metrics, inner, name) });
  const ctx: Context = { ...app.ctx, credentials, metrics };
  const log = ctx.log;
  if (opts.workers) {
    const check = await preflight(ctx);
    for (const f of check.failures) log.error({ credential: f.credential, status: f.status }, f.error);
    if (check.fatal) {
      await pauses.close();
      // disconnect, not quit: a quit waits for a Redis that may have gone away meanwhile.
      redis.disconnect();
      await app.close();
      throw new ConfigError(check.failures.map((f) => f.error));
    }
  }

  const health = watchRedisHealth(redis, log, { firstReminderMs: opts.timings?.redisReminderMs });
  const onConnectionError = health.onError;
  pool = opts.workers
    ? startWorkers(ctx, { connection: redis, concurrency, shutdown: stop.signal, metrics, onConnectionError, ...opts.timings })
    : undefined;
  const scheduler = opts.scheduler ? new Scheduler(ctx, redis, { ...opts.timings, onConnectionError }) : undefined;
  if (scheduler && opts.cron !== false) await scheduler.start();
  const host = config.daemon.httpHost;
  const queueUi = config.daemon.queueUi.enabled ? createQueueUi(redis, config.daemon.queueUi, host, onConnectionError) : undefined;
  const ops = config.daemon.httpPort ? await startOpsServer({ port: config.daemon.httpPort, host, db: ctx.db, redis, metrics, queueUi, pauses }) : undefined;
  const uiHost = ['0.0.0.0', '::'].includes(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  log.info({ scheduler: Boolean(scheduler), workers: Boolean(pool), metricsHost: ops ? host : undefined, metricsPort: ops?.port, queueUi: ops && queueUi ? `http://${uiHost}:${ops.port}/queues` : undefined }, 'daemon started');

  let stopping: Promise<void> | undefined;
  // Every step is bounded: after a Redis or Postgres outage a close can wait on a connection
  // that will never answer, and SIGTERM must still end the process.
  const step = async (name: string, work: () => Promise<unknown>, ms = 10_000) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((ok) => {
      timer = setTimeout(() => ok('timeout'), ms);
      timer.unref();
    });
    const result = await Promise.race([work().then(() => 'done' as const, (err: unknown) => (log.warn({ err, step: name }, 'shutdown step failed'), 'done' as const)), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') log.warn({ step: name, timeoutMs: ms }, 'shutdown step did not finish in time; going on');
  };
  const shutdown = (reason = 'shutdown') =>
    (stopping ??= (async () => {
      log.info({ reason }, 'stopping: no new jobs; running walks stop at their next request');
      stop.abort(reason);
      if (scheduler) await step('scheduler', () => scheduler.close());
      if (pool) {
        const bound = config.daemon.shutdownTimeout;
        const timer = new Promise<'timeout'>((ok) => setTimeout(() => ok('timeout'), bound).unref());
        if ((await Promise.race([pool.close().then(() => 'closed' as const), timer])) === 'timeout') {
          log.warn({ timeoutMs: bound }, 'jobs still running at the shutdown bound; leaving them to stalled-job recovery');
          await step('workers (forced)', () => pool!.close(true));
        }
      }
      await step('ops server', () => (ops ? ops.close() : pauses.close()));
      health.close();
      await step('redis', () => redis.quit().catch(() => redis.disconnect()));
      await step('database', () => app.close());
      log.info('stopped');
    })());
  return { app, ctx, metrics, scheduler, pool, ops, shutdown };
}
