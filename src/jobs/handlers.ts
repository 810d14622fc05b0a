import { UnrecoverableError } from 'bullmq';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import { runAlerts, runChecks, runDigest } from '../commands/run.js';
import type { Context } from '../context.js';
import { applyAuditRetention } from '../sync/audit-retention.js';
import { planStreams, UnknownStreamError } from '../sync/catalog.js';
import { runStream } from '../sync/runner.js';
import type { JobName, JobPayload } from './catalog.js';

/**
 * The job handlers: plain functions of (context, payload), the same stage functions
 * `flarewatch run` calls. They throw to ask the queue for a retry, and throw
 * UnrecoverableError for what retrying cannot fix (unknown stream, 401/403, bad request).
 */
export type Handler<N extends JobName> = (ctx: Context, payload: JobPayload<N>) => Promise<JobResult>;

export type JobResult =
  | { status: 'succeeded'; stream?: string; rows?: number; requests?: number; durationMs?: number }
  | { status: 'skipped'; stream?: string; reason: string };

export const syncStream: Handler<'sync.stream'> = async (ctx, { stream }) => {
  let jobs;
  try {
    jobs = planStreams([stream], []);
  } catch (err) {
    if (err instanceof UnknownStreamError) throw new UnrecoverableError(err.message);
    throw err;
  }
  // An account kind without an account id plans nothing: the scheduler only sends full names.
  if (jobs.length !== 1) throw new UnrecoverableError(`stream "${stream}" does not name exactly one stream`);
  const outcome = await runStream(ctx, jobs[0]!);
  if (outcome.status === 'skipped') return { status: 'skipped', stream, reason: outcome.reason };
  if (outcome.status === 'succeeded') {
    return { status: 'succeeded', stream, rows: outcome.counts.rowsUpserted, requests: outcome.counts.requests, durationMs: outcome.durationMs };
  }
  if (ctx.signal?.aborted) throw new Error(`walk of ${stream} interrupted (${String(ctx.signal.reason ?? 'aborted')}); the next attempt resumes from the checkpoint`);
  const err = outcome.error;
  if (err instanceof CloudflareRequestError && !err.retryable) throw new UnrecoverableError(err.message);
  throw err;
};

/**
 * After a round: retention, then the rule checks. runChecks takes the one check lock every
 * check run takes (from any process) and waits for a run already in progress, rather than
 * failing and spending the job's retry attempts on contention; the wait ends with the job's
 * timeout or shutdown signal.
 */
export const runChecksJob: Handler<'checks.run'> = async (ctx) => {
  await applyAuditRetention(ctx);
  await runChecks(ctx);
  return { status: 'succeeded' };
};

/** Deliver pending alerts (outbox rows written by the checks' transitions). */
export const deliverAlerts: Handler<'alerts.deliver'> = async (ctx) => {
  await runAlerts(ctx);
  return { status: 'succeeded' };
};

/** The daily digest for sinks in digest mode. */
export const sendDigest: Handler<'alerts.digest'> = async (ctx) => {
  await runDigest(ctx);
  return { status: 'succeeded' };
};

/** Name → handler, as a list so that a name registered twice is caught at start (checkHandlers). */
export const HANDLERS: ReadonlyArray<readonly [JobName, Handler<never>]> = [
  ['sync.stream', syncStream as Handler<never>],
  ['checks.run', runChecksJob as Handler<never>],
  ['alerts.deliver', deliverAlerts as Handler<never>],
  ['alerts.digest', sendDigest as Handler<never>],
];
