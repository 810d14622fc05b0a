// The outbox writer: runs inside each rule's transaction (engine `onTransitions`) with the
// transitions just written, so a transition and its alert commit together or not at all.
// Each alert row gets its delivery rows (one per sink) in the same transaction, before any send.
import { randomUUID } from 'node:crypto';
import type { Context } from '../context.js';
import type { Tx } from '../db/client.js';
import { type AlertRow, type DeliveryRow, episodeSinks, findingInfo, insertAlerts, insertDeliveries } from '../db/queries/alerts.js';
import type { OutboxAlertKind } from '../db/schema/alerts.js';
import type { Transition } from '../findings/apply.js';
import { type Rule, severityRank } from '../rules/types.js';
import { alertEvent } from './content-from-finding.js';
import { routeAlert, type Route } from './routing.js';

/** Which alert a transition becomes, if any. Suppressed findings do not alert (a resolution still closes what was sent). */
export function alertKindFor(t: Transition): OutboxAlertKind | null {
  if (t.transition === 'resolved') return 'resolved';
  if (t.suppressed) return null;
  switch (t.transition) {
    case 'opened':
    case 'reopened':
    case 'unsuppressed':
      return 'opened';
    case 'severity_changed':
      return t.fromSeverity && t.toSeverity && severityRank(t.toSeverity) > severityRank(t.fromSeverity) ? 'severity_raised' : null;
    default:
      return null;
  }
}

export type OnTransitions = (tx: Tx, transitions: Transition[]) => Promise<void>;

/** The `onTransitions` hook for runChecks. `rules` supplies rationale and remediation by rule id. */
export function outboxWriter(ctx: Pick<Context, 'config' | 'log'>, rules: readonly Rule[]): OnTransitions {
  const byId = new Map(rules.map((r) => [r.id, r]));
  return async (tx, transitions) => {
    const alerting = transitions.flatMap((t) => {
      const kind = alertKindFor(t);
      return kind ? [{ t, kind }] : [];
    });
    if (!alerting.length) return;
    const ids = [...new Set(alerting.map((a) => a.t.findingId))];
    const info = await findingInfo(tx, ids);
    const prior = await episodeSinks(tx, alerting.filter((a) => a.kind === 'resolved').map((a) => a.t.findingId));
    const alertRows: AlertRow[] = [];
    const deliveries: DeliveryRow[] = [];
    for (const { t, kind } of alerting) {
      // A resolution goes only where this episode's alerts went; nothing went out, nothing to resolve.
      const routes: Route[] = kind === 'resolved' ? (prior.get(t.findingId) ?? []) : routeAlert(ctx.config.alerts, t.ruleId, t.severity);
      if (!routes.length) continue;
      const id = randomUUID();
      const event = alertEvent(id, kind, t, byId.get(t.ruleId), info.get(t.findingId));
      alertRows.push({ id, findingId: t.findingId, fingerprint: t.fingerprint, kind, severity: t.severity, event, createdAt: t.at });
      for (const r of routes) deliveries.push({ alertId: id, sink: r.sink, mode: r.mode, nextAttemptAt: t.at });
    }
    await insertAlerts(tx, alertRows);
    await insertDeliveries(tx, deliveries);
    if (alertRows.length) ctx.log.debug({ alerts: alertRows.length, deliveries: deliveries.length }, 'alerts queued');
  };
}
