// PagerDuty Events API v2: trigger on opened/reminder/severity_raised, resolve on resolved
// (whatever closed the episode: fixed, acknowledged, suppressed, rule gone), the episode's
// fingerprint as dedup_key. Digests and summaries are not sent (an incident for them would
// page for nothing; a PagerDuty sink in digest mode is refused at start). The routing key
// is added to the body only at send time.
import { createHash } from 'node:crypto';
import type { PagerDutyConfig } from '../../config/sinks.js';
import { accountLabel, capStrings, isDigest, isSummary, resourceLabel, safeUrl } from '../content.js';
import { truncate } from '../escape.js';
import { hostOf, postJson } from '../http.js';
import type { Deliverable, Sender } from '../types.js';
import { type AlertEvent, isRemediationKind } from '../types.js';
import type { Severity } from '../../rules/types.js';

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';
export const PAGERDUTY_SEVERITY: Record<Severity, PagerDutySeverity> = {
  critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info',
};
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255, field: 1024, detail: 2000 };

/** The Events v2 body without `routing_key` (added by `send`, so no payload built here holds a secret). */
export type PagerDutyEvent =
  | {
      event_action: 'trigger';
      dedup_key: string;
      client: string;
      payload: {
        summary: string;
        source: string;
        severity: PagerDutySeverity;
        timestamp: string;
        component: string;
        group?: string;
        class: string;
        custom_details: Record<string, unknown>;
      };
      links?: Array<{ href: string; text: string }>;
    }
  | { event_action: 'resolve'; dedup_key: string };

/** The fingerprint, or a hash of it when it exceeds PagerDuty's 255 characters. */
export function dedupKey(fingerprint: string): string {
  return fingerprint.length <= PAGERDUTY_LIMITS.dedupKey
    ? fingerprint
    : `flarewatch:${createHash('sha256').update(fingerprint).digest('hex')}`;
}

function summary(e: AlertEvent): string {
  const account = accountLabel(e);
  const raised = e.kind === 'severity_raised' && e.previousSeverity ? ` (raised from ${e.previousSeverity})` : '';
  const where = `${resourceLabel(e)}${account ? ` in ${account}` : ''}`;
  return truncate(`${e.title}: ${where}${raised}`.replace(/\s+/g, ' '), PAGERDUTY_LIMITS.summary);
}

/**
 * Remediation steps: only a failed action pages (a write flarewatch meant to make did not happen, and
 * someone must look); the next apply that gets it through resolves that incident. A plan waiting
 * for approval, a notice, a skip (someone changed the object: nothing was sent) or an undo are not
 * incidents: they go to chat and machines, never to PagerDuty.
 */
function remediationAction(e: AlertEvent): 'trigger' | 'resolve' | null {
  if (e.kind === 'remediation.failed') return 'trigger';
  return e.kind === 'remediation.applied' ? 'resolve' : null;
}

/** An applied action's fingerprint, as the failure of the same action was keyed. */
const failedKey = (fingerprint: string) => fingerprint.replace(/^remediation\.applied:/, 'remediation.failed:');

/** `null` for a digest or a summary (PagerDuty gets per-finding events only) and for remediation steps that do not page. */
export function buildPagerDutyPayload(event: Deliverable, config: Pick<PagerDutyConfig, 'source'>): PagerDutyEvent | null {
  if (isDigest(event) || isSummary(event)) return null;
  if (isRemediationKind(event.kind)) {
    const action = remediationAction(event);
    if (action === null) return null;
    if (action === 'resolve') return { event_action: 'resolve', dedup_key: dedupKey(failedKey(event.fingerprint)) };
  }
  const dedup_key = dedupKey(event.fingerprint);
  if (event.kind === 'resolved') return { event_action: 'resolve', dedup_key };
  const url = safeUrl(event.dashboardUrl);
  const account = accountLabel(event);
  return {
    event_action: 'trigger',
    dedup_key,
    client: 'flarewatch',
    payload: {
      summary: summary(event),
      source: truncate(config.source, PAGERDUTY_LIMITS.field),
      severity: PAGERDUTY_SEVERITY[event.severity],
      timestamp: event.occurredAt,
      component: truncate(`${event.resourceType}:${resourceLabel(event)}`, PAGERDUTY_LIMITS.field),
      ...(account ? { group: truncate(account, PAGERDUTY_LIMITS.field) } : {}),
      class: truncate(event.ruleId, PAGERDUTY_LIMITS.field),
      custom_details: capStrings(event.facts ?? {}, PAGERDUTY_LIMITS.detail, truncate) as Record<string, unknown>,
    },
    ...(url ? { links: [{ href: url, text: 'Cloudflare dashboard' }] } : {}),
  };
}

export const send: Sender<PagerDutyConfig> = async (event, config, ctx) => {
  const body = buildPagerDutyPayload(event, config);
  if (!body) return { detail: isRemediationKind(event.kind) ? `skipped: ${event.kind} does not page (only remediation.failed does)` : `skipped: ${event.kind}s are not sent to PagerDuty` };
  const url = `${config.baseUrl.replace(/\/+$/, '')}/v2/enqueue`;
  const res = await postJson(
    {
      sink: 'pagerduty',
      url,
      body: JSON.stringify({ routing_key: config.routingKey, ...body }),
      timeoutMs: config.timeoutMs,
      secrets: [config.routingKey],
    },
    ctx,
  );
  return { detail: `${body.event_action} ${body.dedup_key}: HTTP ${res.status} from ${hostOf(url)}` };
};
