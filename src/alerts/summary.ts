// The baseline summary: when a check recorded findings without alerting them (a rule's first
// check, a first walk of an account, `check --baseline`), each sink gets one message about
// what is open instead of one per finding. Queued after the check run, in one transaction
// that takes the pending flags, so two processes never queue it twice.
import { randomUUID } from 'node:crypto';
import type { Context } from '../context.js';
import type { AlertRow, DeliveryRow } from '../db/queries/alerts.js';
import { insertAlerts, insertDeliveries } from '../db/queries/alerts.js';
import { mostSevereOpen, type OpenCount, type OpenItem, openFindingCounts } from '../db/queries/alerts-summary.js';
import { takePendingSummaries } from '../db/queries/rule-states.js';
import { SEVERITIES, type Severity, severityRank } from '../rules/types.js';
import type { SinkSetup } from '../config/alerts.js';
import { sinkTakes } from './routing.js';
import type { SummaryEvent } from './types.js';

export const SUMMARY_TOP = 5;

/** One sink's summary: the open findings its routing takes. Pure. */
export function summaryFor(setup: Pick<SinkSetup, 'minSeverity' | 'rules'>, counts: OpenCount[], top: OpenItem[], base: Pick<SummaryEvent, 'alertId' | 'occurredAt' | 'baselined' | 'rules'>): SummaryEvent {
  const mine = counts.filter((c) => sinkTakes(setup, c.ruleId, c.severity));
  const bySeverity: Partial<Record<Severity, number>> = {};
  for (const c of mine) bySeverity[c.severity] = (bySeverity[c.severity] ?? 0) + c.n;
  const total = (f: (c: OpenCount) => boolean) => mine.filter(f).reduce((n, c) => n + c.n, 0);
  const highOrCritical = total((c) => severityRank(c.severity) >= severityRank('high'));
  return {
    ...base,
    kind: 'summary',
    open: total(() => true),
    highOrCritical,
    counts: bySeverity,
    detections: total((c) => c.kind === 'detection'),
    top: top.filter((i) => sinkTakes(setup, i.ruleId, i.severity)).slice(0, SUMMARY_TOP).map((i) => ({
      ruleId: i.ruleId, title: i.title, severity: i.severity, findingKind: i.kind, resourceKey: i.resourceKey, resourceName: i.resourceName, accountName: i.accountName,
    })),
    listCommand: highOrCritical > 0 ? 'npx flarewatch findings --severity high' : 'npx flarewatch findings',
  };
}

const worst = (e: SummaryEvent): Severity => [...SEVERITIES].reverse().find((s) => e.counts[s]) ?? 'info';

/** Queue the pending baseline summary, one alert per sink (PagerDuty excepted: nothing to page about). Returns how many. */
export async function queueBaselineSummary(ctx: Pick<Context, 'db' | 'config' | 'now'>): Promise<number> {
  return ctx.db.transaction(async (tx) => {
    const pending = await takePendingSummaries(tx);
    if (!pending.rules.length) return 0;
    const sinks = Object.entries(ctx.config.alerts.sinks).filter(([, s]) => s.kind !== 'pagerduty');
    if (!sinks.length) return 0;
    const [counts, top] = [await openFindingCounts(tx), await mostSevereOpen(tx, 500)];
    const now = ctx.now();
    const rows: AlertRow[] = [];
    const deliveries: DeliveryRow[] = [];
    for (const [sink, setup] of sinks) {
      const event = summaryFor(setup, counts, top, { alertId: randomUUID(), occurredAt: now.toISOString(), baselined: pending.baselined, rules: pending.rules });
      rows.push({ id: event.alertId, findingId: null, fingerprint: 'summary', kind: 'summary', severity: worst(event), event, createdAt: now });
      // Immediately, even to a digest sink: it is the one message that replaces the alerts.
      deliveries.push({ alertId: event.alertId, sink, mode: 'immediate', nextAttemptAt: now });
    }
    await insertAlerts(tx, rows);
    await insertDeliveries(tx, deliveries);
    return rows.length;
  });
}
