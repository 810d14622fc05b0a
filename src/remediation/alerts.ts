import { randomUUID } from 'node:crypto';
import type { Context } from '../context.js';
import type { Tx } from '../db/client.js';
import { insertAlerts, insertDeliveries } from '../db/queries/alerts.js';
import type { AlertEvent } from '../alerts/types.js';
import { routeAlert } from '../alerts/routing.js';
import type { Severity } from '../rules/types.js';

/**
 * Remediation steps as alerts, through the same outbox and sinks as findings: each step is one
 * alert row (its id the idempotency key) with its deliveries, written in the step's transaction.
 * The rule id is `remediation.<step>`, so routing by rule (`rules: [remediation.*]`) works as for findings.
 */
export const REMEDIATION_STEPS = ['awaiting-approval', 'applied', 'failed', 'skipped-state-moved', 'notice', 'notice-cancelled', 'undone'] as const;
export type RemediationStep = (typeof REMEDIATION_STEPS)[number];

const SEVERITY: Record<RemediationStep, Severity> = {
  'awaiting-approval': 'medium', applied: 'low', failed: 'high', 'skipped-state-moved': 'medium', notice: 'medium', 'notice-cancelled': 'low', undone: 'low',
};

export interface StepAlert {
  step: RemediationStep;
  /** Plan, or notice, it is about: part of the fingerprint, so each step of each plan alerts once. */
  subject: string;
  title: string;
  resourceKey: string;
  resourceName?: string | null;
  accountId?: string | null;
  facts: Record<string, unknown>;
}

export async function queueStepAlert(tx: Tx, ctx: Pick<Context, 'config' | 'now'>, a: StepAlert): Promise<void> {
  const ruleId = `remediation.${a.step}`;
  const severity = SEVERITY[a.step];
  const routes = routeAlert(ctx.config.alerts, ruleId, severity);
  const id = randomUUID();
  const at = ctx.now();
  const fingerprint = `${ruleId}:${a.subject}:${a.resourceKey}`;
  const event: AlertEvent = {
    alertId: id, kind: 'opened', fingerprint, ruleId, title: a.title, severity, resourceType: a.resourceKey.split(':')[0] ?? 'object',
    resourceKey: a.resourceKey, resourceName: a.resourceName ?? null, accountId: a.accountId ?? null, facts: a.facts,
    firstSeenAt: at.toISOString(), occurredAt: at.toISOString(),
  };
  await insertAlerts(tx, [{ id, findingId: null, fingerprint, kind: 'opened', severity, event, createdAt: at }]);
  await insertDeliveries(tx, routes.map((r) => ({ alertId: id, sink: r.sink, mode: r.mode, nextAttemptAt: at })));
}
