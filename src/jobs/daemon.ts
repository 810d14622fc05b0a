import { setMaxListeners } from 'node:events';
import { type App, openApp } from '../app.js';
import type { RequestLimiter } from '../cloudflare/rate-limit.js';
import { credentialKey, redisLimiter } from '../cloudflare/redis-limiter.js';
import type { Config } from '../config.js';
import type { Context } from '../context.js';
import type { Logger } from '../log.js';
import { countedFetch, createMetrics, type Metrics } from '../ops/metrics.js';
import { type OpsServer, startOpsServer } from '../ops/server.js';
import { createQueueUi } from '../ops/queue-ui.js';
import { connectRedis } from './redis.js';
import { validateSelection } from '../sync/catalog.js';
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
  timings?: Pick<WorkerPoolOptions, 'lockDurationMs' | 'stalledIntervalMs'> & SchedulerOptions;
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

/** The shared limiter (Redis, one per credential) and the fetch it paces, with waits counted; none when pacing is off. */
function sharedLimiter(config: Config, redis: ReturnType<typeof connectRedis>, metrics: Metrics): { limiter: RequestLimiter; fetch: typeof fetch } | undefined {
  const cf = config.cloudflare;
  if (!cf.rateLimit) return undefined;
  const limiter = redisLimiter({
    redis,
    key: credentialKey(cf),
    setting: { requests: Math.max(1, Math.floor(cf.rateLimit.requests * (1 - cf.rateLimitMargin))), windowMs: cf.rateLimit.windowMs },
  });
  const timed: typeof fetch = async (input, init) => {
    const t = Date.now();
    const waitsBefore = limiter.stats.waitedMs;
    const response = await limiter.fetch()(input, init);
    const waited = limiter.stats.waitedMs - waitsBefore;
    if (waited > 0 && Date.now() - t >= 0) {
      metrics.rateLimitWaits.inc();
      metrics.rateLimitWaitSeconds.inc(waited / 1000);
    }
    return response;
  };
  return { limiter, fetch: timed };
}

/** Scheduler and/or workers in this process, with the operations server. Migrations run first (openApp). */
export async function startDaemon(config: Config, opts: DaemonOptions): Promise<Daemon> {
  // Like `sync`: a misspelt kind in FLAREWATCH_STREAMS stops the start instead of being dropped.
  validateSelection(config.sync.streams);
  const app = await openApp(config, { log: opts.log, requireCredentials: opts.workers });
  const redis = connectRedis(opts.redisUrl, opts.workers ? 'flarewatch-worker' : 'flarewatch-scheduler');
  const stop = new AbortController();
  // Every running job listens to it (AbortSignal.any): as many listeners as jobs at once.
  setMaxListeners(0, stop.signal);
  let pool: WorkerPool | undefined;
  const metrics = createMetrics({ db: app.ctx.db, queueDepths: () => pool?.queueDepths() ?? Promise.resolve({}) });
  const shared = sharedLimiter(config, redis, metrics);
  const fetchChain = countedFetch(metrics, shared?.fetch ?? fetch);
  const ctx: Context = { ...app.ctx, api: { ...app.ctx.api, fetch: fetchChain, limiter: shared?.limiter } };
  const log = ctx.log;

  pool = opts.workers
    ? startWorkers(ctx, { connection: redis, concurrency: opts.concurrency ?? config.daemon.concurrency, shutdown: stop.signal, metrics, ...opts.timings })
    : undefined;
  const scheduler = opts.scheduler ? new Scheduler(ctx, redis, opts.timings) : undefined;
  if (scheduler && opts.cron !== false) await scheduler.start();
  const queueUi = config.daemon.queueUi.enabled ? createQueueUi(redis, config.daemon.queueUi) : undefined;
  const ops = config.daemon.httpPort ? await startOpsServer({ port: config.daemon.httpPort, db: ctx.db, redis, metrics, queueUi }) : undefined;
  log.info({ scheduler: Boolean(scheduler), workers: Boolean(pool), metricsPort: ops?.port, queueUi: ops && queueUi ? `http://127.0.0.1:${ops.port}/queues` : undefined }, 'daemon started');

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
      if (ops) await step('ops server', () => ops.close());
      await step('redis', () => redis.quit().catch(() => redis.disconnect()));
      await step('database', () => app.close());
      log.info('stopped');
    })());
  return { app, ctx, metrics, scheduler, pool, ops, shutdown };
}
