import { setMaxListeners } from 'node:events';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Context } from '../context.js';
import { type Metrics, streamKind } from '../ops/metrics.js';
import { checkHandlers, JOB_CATALOG, JOB_NAMES, type JobName, QUEUES, type QueueName } from './catalog.js';
import { HANDLERS, type Handler, type JobResult } from './handlers.js';

export interface WorkerPoolOptions {
  connection: Redis;
  /** Sync jobs at once in this process; checks and alerts run one at a time. */
  concurrency: number;
  /** Aborted on SIGTERM/SIGINT: walks stop at the next request, their page checkpoints kept. */
  shutdown: AbortSignal;
  metrics?: Metrics;
  /** Lock and stalled-check timings (BullMQ's 30 s defaults; tests use shorter ones). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  handlers?: ReadonlyArray<readonly [JobName, Handler<never>]>;
  /** Connection errors of every queue and worker (the daemon's watchRedisHealth: one line per state change). */
  onConnectionError?: (err: Error) => void;
}

export interface WorkerPool {
  workers: Worker[];
  queueDepths(): Promise<Record<string, Record<string, number>>>;
  /** Stop taking jobs and wait for the running ones (bounded by the caller). */
  close(force?: boolean): Promise<void>;
}

/** One BullMQ worker per queue, all on the catalog's handlers. Refuses to start on a catalog mismatch. */
export function startWorkers(ctx: Context, opts: WorkerPoolOptions): WorkerPool {
  const handlers = opts.handlers ?? HANDLERS;
  checkHandlers(JOB_NAMES, handlers);
  const byName = new Map(handlers);
  const running: Running = new Map();
  const workers = QUEUES.map(
    (queue) =>
      new Worker(queue, (job, _token, signal) => processOnce(ctx, opts, queue, byName, running, job, signal), {
        connection: opts.connection,
        concurrency: queue === 'sync' ? opts.concurrency : 1,
        lockDuration: opts.lockDurationMs ?? ctx.config.daemon.jobLockDuration,
        stalledInterval: opts.stalledIntervalMs ?? ctx.config.daemon.jobLockDuration,
        // A job whose worker died twice mid-walk is still retried (each attempt resumes at its checkpoint).
        maxStalledCount: 3,
      }),
  );
  // Without a listener BullMQ prints each retry's stack to stderr; an outage is reported once by the caller.
  const onError = opts.onConnectionError ?? ((err: Error) => ctx.log.debug({ err: err.message }, 'queue connection problem'));
  for (const w of workers) w.on('error', onError);
  const queues = QUEUES.map((q) => new Queue(q, { connection: opts.connection }));
  for (const q of queues) q.on('error', onError);
  return {
    workers,
    async queueDepths() {
      const out: Record<string, Record<string, number>> = {};
      for (const q of queues) out[q.name] = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'waiting-children', 'prioritized');
      return out;
    },
    async close(force = false) {
      await Promise.all(workers.map((w) => w.close(force)));
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}

/** Job id → the attempt of it this process is running now. */
type Running = Map<string, Promise<JobResult>>;

/**
 * Run a job, unless this process is already running it. When Redis is unreachable for longer
 * than the job lock (a restart, a failover), the lock lapses, BullMQ takes the job for stalled
 * and hands it out again while the first delivery is still walking here. A second run would find
 * the stream locked by the first and complete as skipped: the round's checks would then run on a
 * half-walked stream, and the first delivery's outcome, which can no longer be recorded under its
 * lost lock, would be lost with it (a failed walk left unretried). The new delivery holds the
 * live lock, so it waits for the first and reports that outcome as its own.
 */
async function processOnce(
  ctx: Context, opts: WorkerPoolOptions, queue: QueueName, byName: Map<JobName, Handler<never>>, running: Running, job: Job, jobSignal?: AbortSignal,
): Promise<JobResult> {
  const id = job.id ?? '';
  const first = running.get(id);
  if (first) {
    ctx.log.warn({ queue, job: job.name, jobId: id }, 'job handed out again while this process still runs it (its lock lapsed); this delivery reports that run');
    return first;
  }
  const attempt = processJob(ctx, opts, queue, byName, job, jobSignal);
  running.set(id, attempt);
  try {
    return await attempt;
  } finally {
    if (running.get(id) === attempt) running.delete(id);
  }
}

async function processJob(
  ctx: Context, opts: WorkerPoolOptions, queue: QueueName, byName: Map<JobName, Handler<never>>, job: Job, jobSignal?: AbortSignal,
): Promise<JobResult> {
  const name = job.name as JobName;
  const spec = JOB_CATALOG[name];
  const handler = byName.get(name);
  if (!spec || !handler) throw new UnrecoverableError(`no handler for job "${job.name}" in queue ${queue}`);
  const parsed = spec.payload.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`job ${job.name}: invalid payload: ${parsed.error.message}`);
  const payload = parsed.data as { stream?: string };
  const log = ctx.log.child({ queue, job: name, jobId: job.id, attempt: job.attemptsMade + 1, ...(payload.stream ? { stream: payload.stream } : {}) });
  const timeoutMs = 'timeoutMs' in spec && spec.timeoutMs ? spec.timeoutMs : ctx.config.daemon.syncJobTimeout;
  const signal = AbortSignal.any([opts.shutdown, AbortSignal.timeout(timeoutMs), ...(jobSignal ? [jobSignal] : [])]);
  // The Cloudflare SDK adds one abort listener per request and keeps it until the signal is dropped
  // with the job: many per walk by design, not a leak past the job.
  setMaxListeners(0, signal);
  const started = Date.now();
  log.info('job started');
  try {
    const result = await handler({ ...ctx, log, signal }, parsed.data as never);
    const durationMs = Date.now() - started;
    log.info({ ...result, durationMs }, 'job finished');
    record(opts.metrics, queue, name, result, durationMs);
    return result;
  } catch (err) {
    const durationMs = Date.now() - started;
    const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    log[final ? 'error' : 'warn']({ error: (err as Error).message, durationMs, retry: !final }, 'job failed');
    opts.metrics?.jobs.inc({ queue, job: name, outcome: 'failed' });
    if (payload.stream) opts.metrics?.syncDuration.observe({ kind: streamKind(payload.stream), status: 'failed' }, durationMs / 1000);
    throw err;
  }
}

function record(metrics: Metrics | undefined, queue: QueueName, job: JobName, result: JobResult, durationMs: number): void {
  if (!metrics) return;
  metrics.jobs.inc({ queue, job, outcome: result.status });
  if (result.status === 'succeeded' && 'stream' in result && result.stream) {
    metrics.syncDuration.observe({ kind: streamKind(result.stream), status: 'succeeded' }, durationMs / 1000);
    metrics.entriesArchived.inc({ stream: streamKind(result.stream) }, result.rows ?? 0);
  }
}
