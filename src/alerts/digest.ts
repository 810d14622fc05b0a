// The daily digest: for each sink in `digest` mode, its undelivered alerts as one DigestEvent.
// The digest id is stored on the rows when they are claimed and reused by every retry, so
// a resend after a crash carries the same idempotency key and the same alerts.
import { randomUUID } from 'node:crypto';
import type { Context } from '../context.js';
import { secretValues } from '../config.js';
import { claimDigest, deliveryCounts, settleDigest } from '../db/queries/alerts-delivery.js';
import { scrub } from '../log.js';
import { errorText, failureOutcome, sinkContext, type AlertsResult, type SinkReport } from './deliver.js';
import type { SinkSetup } from '../config/alerts.js';
import { sendTo } from './sinks/index.js';
import type { AlertEvent, DigestEvent } from './types.js';

async function digestSink(ctx: Context, name: string, setup: SinkSetup, report: SinkReport): Promise<void> {
  const cfg = ctx.config.alerts;
  const secrets = secretValues(ctx.config);
  const sctx = sinkContext(ctx, name);
  // At most a retried digest and a fresh one per run.
  for (let i = 0; i < 2; i++) {
    const claim = await ctx.db.transaction((tx) => claimDigest(tx, name, ctx.now(), cfg.lease, randomUUID()));
    if (!claim) return;
    const times = claim.rows.map((r) => r.createdAt.getTime());
    const digest: DigestEvent = {
      alertId: claim.digestId,
      kind: 'digest',
      period: { from: new Date(Math.min(...times)).toISOString(), to: new Date(Math.max(...times)).toISOString() },
      events: claim.rows.map((r) => r.event as AlertEvent),
    };
    try {
      const res = await sendTo(setup.kind, digest, setup.settings, sctx);
      await settleDigest(ctx.db, claim.digestId, { status: 'sent', at: ctx.now(), detail: res.detail && scrub(res.detail, secrets) });
      report.sent += claim.rows.length;
      ctx.metrics?.alertsSent.inc({ sink: name }, claim.rows.length);
    } catch (err) {
      const now = ctx.now();
      const out = failureOutcome(err, claim.attempts, cfg, now);
      const error = errorText(err, secrets);
      await settleDigest(ctx.db, claim.digestId, { status: out.status, at: now, error, nextAttemptAt: out.nextAttemptAt });
      report[out.status === 'dead' ? 'dead' : 'failed'] += claim.rows.length;
      report.lastError = error;
      ctx.metrics?.alertsFailed.inc({ sink: name }, claim.rows.length);
      sctx.log.warn({ digestId: claim.digestId, alerts: claim.rows.length, status: out.status, error }, 'digest delivery failed');
      return;
    }
  }
}

/** Send each digest-mode sink its undelivered alerts as one message (the daemon runs this daily). */
export async function runDigest(ctx: Context): Promise<AlertsResult> {
  const sinks = Object.entries(ctx.config.alerts.sinks).filter(([, s]) => s.mode === 'digest');
  const reports = new Map(sinks.map(([name]) => [name, { sink: name, sent: 0, failed: 0, dead: 0, pending: 0 } as SinkReport]));
  await Promise.all(sinks.map(([name, setup]) => digestSink(ctx, name, setup, reports.get(name)!)));
  for (const c of await deliveryCounts(ctx.db)) {
    const r = reports.get(c.sink);
    if (r) r.pending = c.pending + c.failed + c.sending;
  }
  const result = { reminders: 0, sinks: [...reports.values()] };
  ctx.log.info({ stage: 'digest', sinks: result.sinks.map((s) => ({ sink: s.sink, sent: s.sent, failed: s.failed })) }, 'digest finished');
  return result;
}
