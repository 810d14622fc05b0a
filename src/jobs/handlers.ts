import { UnrecoverableError } from 'bullmq';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import { runAlerts, runChecks, runDigest } from '../commands/run.js';
import type { Context } from '../context.js';
import { applyAuditPacking } from '../sync/audit-pack.js';
import { applyAuditRetention } from '../sync/audit-retention.js';
import { streamJob, UnknownStreamError } from '../sync/catalog.js';
import { runStream, WalkerError } from '../sync/runner.js';
import { withStreamLock } from '../sync/stream-lock.js';
import { runVerify } from '../verify/run.js';
import { runHygiene } from '../remediation/hygiene.js';
import type { JobName, JobPayload } from './catalog.js';

/**
 * The job handlers: plain functions of (context, payload), the same stage functions
 * `flarewatch run` calls. They throw to ask the queue for a retry, and throw
 * UnrecoverableError for what retrying cannot fix (unknown stream, 401/403, bad request).
 */
export type Handler<N extends JobName> = (ctx: Context, payload: JobPayload<N>) => Promise<JobResult>;

export type JobResult =
  | { status: 'succeeded'; stream?: string; credential?: string; rows?: number; requests?: number; durationMs?: number }
  | { status: 'skipped' | 'not-applicable'; stream?: string; reason: string };

export const syncStream: Handler<'sync.stream'> = async (ctx, { stream }) => {
  let job;
  try {
    // The scheduler only sends full names: a bare kind (`members`) names no single stream.
    job = streamJob(stream);
  } catch (err) {
    if (err instanceof UnknownStreamError) throw new UnrecoverableError(err.message);
    throw err;
  }
  const outcome = await runStream(ctx, job);
  if (outcome.status === 'skipped' || outcome.status === 'not-applicable') return { status: outcome.status, stream, reason: outcome.reason };
  if (outcome.status === 'succeeded') {
    return { status: 'succeeded', stream, credential: outcome.credential, rows: outcome.counts.rowsUpserted, requests: outcome.counts.requests, durationMs: outcome.durationMs };
  }
  if (ctx.signal?.aborted) throw new Error(`walk of ${stream} interrupted (${String(ctx.signal.reason ?? 'aborted')}); the next attempt resumes from the checkpoint`);
  const err = outcome.error;
  // No usable credential: retrying within the job's backoff cannot help; the next round verifies again.
  if (err instanceof WalkerError) throw new UnrecoverableError(err.message);
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
  await applyAuditPacking(ctx);
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

/** One verification at a time across every process; it walks within the budget and repairs what it finds (audit.verifyRepair). */
export const verifyAudit: Handler<'audit.verify'> = async (ctx) => {
  const report = await withStreamLock(ctx.db, 'audit-verify', () =>
    runVerify(ctx, { streams: [], maxRequests: ctx.config.audit.verifyMaxRequests, repair: ctx.config.audit.verifyRepair }),
  );
  if (!report) return { status: 'skipped', reason: 'another process is verifying the archive' };
  const gaps = report.streams.reduce((s, x) => s + x.gaps.length, 0);
  ctx.log[gaps ? 'warn' : 'info']({ requests: report.requests, incomplete: report.incomplete, gaps }, 'audit archive verified');
  return { status: 'succeeded', requests: report.requests };
};

/**
 * Hygiene policies: one run at a time across every process (a second one finds the lock held and
 * skips: the holder does the same work), then the notices and plans it queued are delivered at once
 * rather than at the next round.
 */
export const runHygieneJob: Handler<'remediation.hygiene'> = async (ctx) => {
  const r = await withStreamLock(ctx.db, 'remediation-hygiene', () => runHygiene(ctx));
  if (!r) return { status: 'skipped', reason: 'another process is running the hygiene policies' };
  if (r.noticed + r.cancelled + r.planned) await runAlerts(ctx);
  return { status: 'succeeded', rows: r.noticed + r.cancelled + r.planned };
};

/** Name → handler, as a list so that a name registered twice is caught at start (checkHandlers). */
export const HANDLERS: ReadonlyArray<readonly [JobName, Handler<never>]> = [
  ['sync.stream', syncStream as Handler<never>],
  ['checks.run', runChecksJob as Handler<never>],
  ['alerts.deliver', deliverAlerts as Handler<never>],
  ['alerts.digest', sendDigest as Handler<never>],
  ['audit.verify', verifyAudit as Handler<never>],
  ['remediation.hygiene', runHygieneJob as Handler<never>],
];
