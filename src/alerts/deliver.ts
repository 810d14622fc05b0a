// Delivery: each sink drains its own due rows (claim → send → settle), all sinks at once, so
// a sink that is down or slow delays only itself. A claim commits `sending` with a lease
// before the send; a crash between send and settle leaves the row to be claimed again after
// the lease, and the resend carries the same alert id (the sinks' idempotency key).
import type { Context } from '../context.js';
import { secretValues } from '../config.js';
import { type Claimed, claimNextDelivery, deliveryCounts, settleDelivery } from '../db/queries/alerts-delivery.js';
import { scrub } from '../log.js';
import { RetryableSinkError } from './http.js';
import { queueReminders } from './reminders.js';
import type { AlertsConfig, SinkSetup } from '../config/alerts.js';
import { OWNER_SINK, ownerSettings, ownerSinkEntries } from '../remediation/owner-notice.js';
import { sendTo } from './sinks/index.js';
import { type AlertEvent, PermanentSinkError, type SinkContext } from './types.js';

export interface SinkReport {
  sink: string;
  /** This run. */
  sent: number;
  failed: number;
  dead: number;
  /** Left for later, after this run (pending, failed awaiting retry, or sending under someone's lease). */
  pending: number;
  lastError?: string;
}

export interface AlertsResult {
  reminders: number;
  sinks: SinkReport[];
}

export interface DeliverOptions {
  /** Only these sinks (default: every configured sink). */
  sinks?: string[];
  /** Called after a send succeeded and before it is recorded (tests: a crash in between). */
  afterSend?: (sink: string, claim: Claimed) => Promise<void> | void;
  random?: () => number;
  /** Per sink and run, at most this many sends. */
  maxPerSink?: number;
}

/** Exponential backoff with jitter (half fixed, half random), never sooner than the sink's Retry-After. */
export function backoffMs(attempt: number, cfg: AlertsConfig['backoff'], retryAfterMs?: number, random = Math.random): number {
  const exp = Math.min(cfg.max, cfg.initial * 2 ** Math.max(0, attempt - 1));
  return Math.max(Math.round(exp / 2 + (random() * exp) / 2), retryAfterMs ?? 0);
}

export const errorText = (err: unknown, secrets: readonly string[]): string =>
  scrub(err instanceof Error ? err.message : String(err), secrets).slice(0, 1000);

export function sinkContext(ctx: Pick<Context, 'log' | 'signal' | 'now' | 'config'>, sink: string): SinkContext {
  return { log: ctx.log.child({ alertSink: sink }), signal: ctx.signal, now: ctx.now, refusePrivateAddresses: ctx.config.alerts.refusePrivateAddresses };
}

/** How a failed attempt settles: dead when retrying cannot help or attempts ran out, else failed with a retry time. */
export function failureOutcome(err: unknown, attempts: number, cfg: AlertsConfig, now: Date, random?: () => number) {
  const permanent = err instanceof PermanentSinkError;
  const dead = permanent || attempts >= cfg.maxAttempts;
  const retryAfter = err instanceof RetryableSinkError ? err.retryAfterMs : undefined;
  return {
    status: dead ? ('dead' as const) : ('failed' as const),
    permanent,
    nextAttemptAt: new Date(now.getTime() + (dead ? 0 : backoffMs(attempts, cfg.backoff, retryAfter, random))),
  };
}

async function drainSink(ctx: Context, name: string, setup: SinkSetup, opts: DeliverOptions, report: SinkReport): Promise<void> {
  const cfg = ctx.config.alerts;
  const secrets = secretValues(ctx.config);
  const sctx = sinkContext(ctx, name);
  for (let i = 0; i < (opts.maxPerSink ?? 10_000); i++) {
    if (ctx.signal?.aborted) return;
    const claim = await claimNextDelivery(ctx.db, name, ctx.now(), cfg.lease);
    if (!claim) return;
    let detail: string | undefined;
    try {
      const event = claim.event as AlertEvent;
      detail = (await sendTo(setup.kind, event, name === OWNER_SINK ? ownerSettings(setup.settings, event) : setup.settings, sctx)).detail;
    } catch (err) {
      const now = ctx.now();
      const out = failureOutcome(err, claim.attempts, cfg, now, opts.random);
      const error = errorText(err, secrets);
      await settleDelivery(ctx.db, claim.id, claim.attempts, { status: out.status, at: now, error, nextAttemptAt: out.nextAttemptAt });
      report[out.status === 'dead' ? 'dead' : 'failed']++;
      report.lastError = error;
      ctx.metrics?.alertsFailed.inc({ sink: name });
      sctx.log.warn({ alertId: claim.alertId, deliveryAttempt: claim.attempts, status: out.status, error }, 'alert delivery failed');
      // A permanent error belongs to this alert; anything else means the sink is unwell: stop it for this run.
      if (!out.permanent) return;
      continue;
    }
    await opts.afterSend?.(name, claim);
    await settleDelivery(ctx.db, claim.id, claim.attempts, { status: 'sent', at: ctx.now(), detail: detail && scrub(detail, secrets) });
    report.sent++;
    ctx.metrics?.alertsSent.inc({ sink: name });
  }
}

/** Queue due reminders, then deliver every due immediate alert to every configured sink, once. */
export async function runAlerts(ctx: Context, opts: DeliverOptions = {}): Promise<AlertsResult> {
  const t0 = performance.now();
  const reminders = await queueReminders(ctx);
  // Hygiene notices to token owners (remediation.notifyOwners) drain as one more sink.
  const sinks = [...Object.entries(ctx.config.alerts.sinks), ...ownerSinkEntries(ctx.config)].filter(([name]) => !opts.sinks || opts.sinks.includes(name));
  const reports = new Map(sinks.map(([name]) => [name, { sink: name, sent: 0, failed: 0, dead: 0, pending: 0 } as SinkReport]));
  // Every sink to the end of its own run, even when another one threw (e.g. the database went away).
  const settled = await Promise.allSettled(sinks.map(([name, setup]) => drainSink(ctx, name, setup, opts, reports.get(name)!)));
  const thrown = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (thrown) throw thrown.reason;
  for (const c of await deliveryCounts(ctx.db)) {
    if (opts.sinks && !opts.sinks.includes(c.sink)) continue;
    const r = reports.get(c.sink) ?? { sink: c.sink, sent: 0, failed: 0, dead: 0, pending: 0 };
    r.pending = c.pending + c.failed + c.sending;
    reports.set(c.sink, r);
  }
  const result = { reminders, sinks: [...reports.values()] };
  ctx.log.info(
    { stage: 'alerts', reminders, sent: sum(result.sinks, 'sent'), failed: sum(result.sinks, 'failed'), dead: sum(result.sinks, 'dead'), durationMs: Math.round(performance.now() - t0) },
    'alert delivery finished',
  );
  return result;
}

const sum = (rs: SinkReport[], k: 'sent' | 'failed' | 'dead') => rs.reduce((s, r) => s + r[k], 0);
