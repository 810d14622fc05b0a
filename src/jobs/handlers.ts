import { UnrecoverableError } from 'bullmq';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import * as runStages from '../commands/run.js';
import type { Context } from '../context.js';
import { applyAuditRetention } from '../sync/audit-retention.js';
import { planStreams, UnknownStreamError } from '../sync/catalog.js';
import { runStream } from '../sync/runner.js';
import { withStreamLock } from '../sync/stream-lock.js';
import type { JobName, JobPayload } from './catalog.js';

/**
 * The job handlers: plain functions of (context, payload), the same stage functions
 * `flarewatch run` calls. They throw to ask the queue for a retry, and throw
 * UnrecoverableError for what retrying cannot fix (unknown stream, 401/403, bad request).
 */
export type Handler<N extends JobName> = (ctx: Context, payload: JobPayload<N>) => Promise<JobResult>;

export type JobResult =
  | { status: 'succeeded'; stream?: string; rows?: number; requests?: number; durationMs?: number }
  | { status: 'skipped'; stream?: string; reason: string }
  | { status: 'not-installed'; reason: string };

type Stage = (ctx: Context) => Promise<unknown>;

/**
 * A later stage exported by src/commands/run.ts, if it has landed there: `runChecks` (rules,
 * issue 4) and `runAlerts` / `runDigest` (alerts, issue 5). Looked up at run time so this
 * file compiles and runs whether or not they exist yet.
 */
export function laterStage(name: 'runChecks' | 'runAlerts' | 'runDigest'): Stage | undefined {
  const fn = (runStages as unknown as Record<string, unknown>)[name];
  return typeof fn === 'function' ? (fn as Stage) : undefined;
}

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

/** After a round: retention, then the rule checks (one check run at a time across workers). */
export const runChecksJob: Handler<'checks.run'> = async (ctx) => {
  await applyAuditRetention(ctx);
  const checks = laterStage('runChecks');
  if (!checks) return { status: 'not-installed', reason: 'rule checks (src/commands/run.ts runChecks) not present in this build' };
  const ran = await withStreamLock(ctx.db, 'checks', () => checks(ctx));
  // Another worker is checking right now: retry later so this round's data is checked too.
  if (ran === undefined) throw new Error('another check run is in progress; retrying');
  return { status: 'succeeded' };
};

// PLACEHOLDER until issue 5 (alerts) lands: these names are registered so rounds and the daily
// digest are queued today; each calls the alert stage as soon as run.ts exports it.
export const deliverAlerts: Handler<'alerts.deliver'> = async (ctx) => {
  const alerts = laterStage('runAlerts');
  if (!alerts) return { status: 'not-installed', reason: 'alert delivery (issue 5) not present in this build; nothing sent' };
  await alerts(ctx);
  return { status: 'succeeded' };
};

export const sendDigest: Handler<'alerts.digest'> = async (ctx) => {
  const digest = laterStage('runDigest');
  if (!digest) return { status: 'not-installed', reason: 'alert digest (issue 5) not present in this build; nothing sent' };
  await digest(ctx);
  return { status: 'succeeded' };
};

/** Name → handler, as a list so that a name registered twice is caught at start (checkHandlers). */
export const HANDLERS: ReadonlyArray<readonly [JobName, Handler<never>]> = [
  ['sync.stream', syncStream as Handler<never>],
  ['checks.run', runChecksJob as Handler<never>],
  ['alerts.deliver', deliverAlerts as Handler<never>],
  ['alerts.digest', sendDigest as Handler<never>],
];
