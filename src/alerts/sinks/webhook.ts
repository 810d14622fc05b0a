// Generic JSON webhook: a versioned payload (docs/webhooks.md), signed with HMAC-SHA256
// over `${timestamp}.${rawBody}`, with the alert id as the idempotency key.
import { createHmac } from 'node:crypto';
import type { WebhookConfig } from '../../config/sinks.js';
import { capStrings, digestOrder, groupDigest, isDigest, isSummary } from '../content.js';
import { truncate } from '../escape.js';
import { hostOf, postJson } from '../http.js';
import { type AlertEvent, type AlertResolution, type Deliverable, type DigestEvent, isRemediationKind, type RemediationAlertKind, type Sender, type SummaryEvent } from '../types.js';
import type { Severity } from '../../rules/types.js';

export const WEBHOOK_VERSION = 1;
/** Any string from Cloudflare is capped at this many characters in the payload. */
export const WEBHOOK_MAX_STRING = 4000;

export interface WebhookFinding {
  fingerprint: string;
  id: number | null;
  kind: 'state' | 'detection';
  rule_id: string;
  title: string;
  severity: Severity;
  previous_severity: Severity | null;
  resource: { type: string; key: string; name: string | null };
  account: { id: string | null; name: string | null };
  facts: Record<string, unknown>;
  rationale: string | null;
  remediation: string | null;
  dashboard_url: string | null;
  first_seen_at: string;
  /** finding.resolved: why (reason, category) and who (by, note). */
  resolution: { reason: string; category: AlertResolution['category']; by: string | null; note: string | null } | null;
}

export interface WebhookEventPayload {
  version: 1;
  type: `finding.${'opened' | 'reminder' | 'severity_raised' | 'resolved'}` | 'test';
  alert_id: string;
  occurred_at: string;
  finding: WebhookFinding;
}

/** A remediation step: its own event name (`remediation.applied`, ...), what it acted on, and the step's facts (plan, action, reason). */
export interface WebhookRemediationPayload {
  version: 1;
  type: RemediationAlertKind;
  alert_id: string;
  occurred_at: string;
  remediation: Pick<WebhookFinding, 'fingerprint' | 'rule_id' | 'title' | 'severity' | 'resource' | 'account' | 'facts'>;
}

export interface WebhookDigestPayload {
  version: 1;
  type: 'digest';
  alert_id: string;
  period: { from: string; to: string };
  counts: Partial<Record<Severity, number>>;
  events: Array<Omit<WebhookEventPayload, 'version'> | Omit<WebhookRemediationPayload, 'version'>>;
}

export interface WebhookSummaryPayload {
  version: 1;
  type: 'summary';
  alert_id: string;
  occurred_at: string;
  open: number;
  high_or_critical: number;
  counts: Partial<Record<Severity, number>>;
  detections: number;
  baselined: number;
  rules: string[];
  top: Array<{ rule_id: string; title: string; severity: Severity; kind: 'state' | 'detection'; resource: { key: string; name: string | null }; account_name: string | null }>;
  list_command: string;
}

export type WebhookPayload = WebhookEventPayload | WebhookRemediationPayload | WebhookDigestPayload | WebhookSummaryPayload;

const cap = (s: string) => truncate(s, WEBHOOK_MAX_STRING);
const capOrNull = (s: string | null | undefined) => (s == null ? null : cap(s));

function finding(e: AlertEvent): WebhookFinding {
  return {
    fingerprint: e.fingerprint,
    id: e.findingId ?? null,
    kind: e.findingKind ?? 'state',
    rule_id: e.ruleId,
    title: cap(e.title),
    severity: e.severity,
    previous_severity: e.previousSeverity ?? null,
    resource: { type: e.resourceType, key: cap(e.resourceKey), name: capOrNull(e.resourceName) },
    account: { id: e.accountId ?? null, name: capOrNull(e.accountName) },
    facts: capStrings(e.facts ?? {}, WEBHOOK_MAX_STRING, truncate) as Record<string, unknown>,
    rationale: capOrNull(e.rationale),
    remediation: capOrNull(e.remediation),
    dashboard_url: e.dashboardUrl ?? null,
    first_seen_at: e.firstSeenAt,
    resolution: e.resolution
      ? { reason: cap(e.resolution.reason), category: e.resolution.category, by: capOrNull(e.resolution.by), note: capOrNull(e.resolution.note) }
      : null,
  };
}

function remediationPayload(e: AlertEvent & { kind: RemediationAlertKind }): WebhookRemediationPayload {
  const { fingerprint, rule_id, title, severity, resource, account, facts } = finding(e);
  return { version: WEBHOOK_VERSION, type: e.kind, alert_id: e.alertId, occurred_at: e.occurredAt, remediation: { fingerprint, rule_id, title, severity, resource, account, facts } };
}

function eventPayload(e: AlertEvent): WebhookEventPayload | WebhookRemediationPayload {
  if (isRemediationKind(e.kind)) return remediationPayload(e as AlertEvent & { kind: RemediationAlertKind });
  return {
    version: WEBHOOK_VERSION,
    type: e.kind === 'test' ? 'test' : `finding.${e.kind}`,
    alert_id: e.alertId,
    occurred_at: e.occurredAt,
    finding: finding(e),
  };
}

function digestPayload(d: DigestEvent): WebhookDigestPayload {
  const counts = Object.fromEntries(groupDigest(d.events).map((g) => [g.severity, g.count]));
  return {
    version: WEBHOOK_VERSION,
    type: 'digest',
    alert_id: d.alertId,
    period: d.period,
    counts,
    events: digestOrder(d.events).map((e) => {
      const { version: _v, ...rest } = eventPayload(e);
      return rest;
    }),
  };
}

function summaryPayload(s: SummaryEvent): WebhookSummaryPayload {
  return {
    version: WEBHOOK_VERSION,
    type: 'summary',
    alert_id: s.alertId,
    occurred_at: s.occurredAt,
    open: s.open,
    high_or_critical: s.highOrCritical,
    counts: s.counts,
    detections: s.detections,
    baselined: s.baselined,
    rules: s.rules,
    top: s.top.map((i) => ({
      rule_id: i.ruleId, title: cap(i.title), severity: i.severity, kind: i.findingKind,
      resource: { key: cap(i.resourceKey), name: capOrNull(i.resourceName) }, account_name: capOrNull(i.accountName),
    })),
    list_command: s.listCommand,
  };
}

export function buildWebhookPayload(event: Deliverable, _config?: unknown): WebhookPayload {
  if (isSummary(event)) return summaryPayload(event);
  return isDigest(event) ? digestPayload(event) : eventPayload(event);
}

/** `v1=<hex HMAC-SHA256 of "<timestamp>.<rawBody>">`, as documented in docs/webhooks.md. */
export function signWebhook(secret: string, timestamp: number, rawBody: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export const send: Sender<WebhookConfig> = async (event, config, ctx) => {
  const body = JSON.stringify(buildWebhookPayload(event));
  const timestamp = Math.floor((ctx.now?.() ?? new Date()).getTime() / 1000);
  const res = await postJson(
    {
      sink: 'webhook',
      url: config.url,
      body,
      timeoutMs: config.timeoutMs,
      secrets: [config.secret],
      headers: {
        'x-flarewatch-timestamp': String(timestamp),
        'x-flarewatch-signature': signWebhook(config.secret, timestamp, body),
        'x-flarewatch-event': event.kind,
        'idempotency-key': event.alertId,
      },
    },
    ctx,
  );
  return { detail: `HTTP ${res.status} from ${hostOf(config.url)}` };
};
