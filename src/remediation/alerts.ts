import { randomUUID } from 'node:crypto';
import type { Context } from '../context.js';
import type { Tx } from '../db/client.js';
import { insertAlerts, insertDeliveries } from '../db/queries/alerts.js';
import type { AlertEvent, RemediationAlertKind } from '../alerts/types.js';
import { routeAlert } from '../alerts/routing.js';
import type { Severity } from '../rules/types.js';
import { OWNER_SINK, ownerAddress, ownerEmailSink } from './owner-notice.js';

/**
 * Remediation steps as alerts, through the same outbox and sinks as findings: each step is one
 * alert row (its id the idempotency key) with its deliveries, written in the step's transaction.
 * Its kind is `remediation.<step>` (webhooks name the event so) and so is its rule id, so routing
 * by rule (`rules: [remediation.*]`) works as for findings.
 */
export type RemediationStep = RemediationAlertKind extends `remediation.${infer S}` ? S : never;

const SEVERITY: Record<RemediationStep, Severity> = {
  pending: 'medium', applied: 'low', failed: 'high', skipped: 'medium', notice: 'medium', cancelled: 'low', undone: 'low',
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
  /** The token's owner or creator: told directly as well (remediation.notifyOwners), where an email sink can carry it. */
  owner?: string | null;
}

export async function queueStepAlert(tx: Tx, ctx: Pick<Context, 'config' | 'now'>, a: StepAlert): Promise<void> {
  const ruleId: RemediationAlertKind = `remediation.${a.step}`;
  const severity = SEVERITY[a.step];
  const routes = routeAlert(ctx.config.alerts, ruleId, severity);
  const id = randomUUID();
  const at = ctx.now();
  const fingerprint = `${ruleId}:${a.subject}:${a.resourceKey}`;
  const event: AlertEvent = {
    alertId: id, kind: ruleId, fingerprint, ruleId, title: a.title, severity, resourceType: a.resourceKey.split(':')[0] ?? 'object',
    resourceKey: a.resourceKey, resourceName: a.resourceName ?? null, accountId: a.accountId ?? null, facts: a.facts,
    firstSeenAt: at.toISOString(), occurredAt: at.toISOString(),
  };
  await insertAlerts(tx, [{ id, findingId: null, fingerprint, kind: ruleId, severity, event, createdAt: at }]);
  const owner = ownerAddress(a.owner) && typeof ownerEmailSink(ctx.config) !== 'string' ? [{ sink: OWNER_SINK, mode: 'immediate' as const }] : [];
  await insertDeliveries(tx, [...routes, ...owner].map((r) => ({ alertId: id, sink: r.sink, mode: r.mode, nextAttemptAt: at })));
}
