// An AlertEvent from a finding transition and its rule: what every sink renders. The
// strings from Cloudflare stay raw here; each sink escapes them for its own format.
import type { FindingInfo } from '../db/queries/alerts.js';
import type { Transition } from '../findings/apply.js';
import type { Rule } from '../rules/types.js';
import type { AlertEvent, AlertKind, AlertResolution } from './types.js';

const DASH = 'https://dash.cloudflare.com';
const ACCOUNT_ID = /^[0-9a-f]{32}$/i;

/** The dashboard page for a resource, where one exists (account ids are checked: they come from Cloudflare). */
export function dashboardUrl(resourceType: string, accountId: string | null, facts: Record<string, unknown>): string | null {
  const account = accountId && ACCOUNT_ID.test(accountId) ? accountId : null;
  if (resourceType === 'token') {
    if (facts.owner_type === 'user' || !account) return `${DASH}/profile/api-tokens`;
    return `${DASH}/${account}/api-tokens`;
  }
  if (!account) return null;
  if (resourceType === 'member' || resourceType === 'invite') return `${DASH}/${account}/members`;
  if (resourceType === 'account') return `${DASH}/${account}/members`;
  if (resourceType === 'audit_entry' || resourceType === 'actor') return `${DASH}/${account}/audit-log`;
  return null;
}

export type { FindingInfo };

export interface EventExtras {
  /** The fingerprint the episode started under (follow-ups keep it). */
  fingerprint?: string;
  resolution?: AlertResolution;
}

export function alertEvent(
  alertId: string,
  kind: Exclude<AlertKind, 'test'>,
  t: Transition,
  rule: Pick<Rule, 'rationale' | 'remediation'> | undefined,
  info: FindingInfo | undefined,
  extras: EventExtras = {},
): AlertEvent {
  // The event's facts are the finding's as written with it (same transaction): see MergedEvent.
  const facts = info?.facts ?? {};
  return {
    alertId,
    kind,
    fingerprint: extras.fingerprint ?? t.fingerprint,
    findingId: t.findingId,
    findingKind: t.kind,
    ruleId: t.ruleId,
    title: t.title,
    severity: t.severity,
    ...(kind === 'severity_raised' && t.fromSeverity ? { previousSeverity: t.fromSeverity } : {}),
    resourceType: t.resourceType,
    resourceKey: t.resourceKey,
    resourceName: t.resourceName,
    accountId: t.accountId,
    accountName: info?.accountName ?? null,
    facts,
    rationale: rule?.rationale,
    remediation: rule?.remediation,
    dashboardUrl: dashboardUrl(t.resourceType, t.accountId, facts),
    firstSeenAt: (info?.firstSeenAt ?? t.at).toISOString(),
    occurredAt: t.at.toISOString(),
    ...(extras.resolution ? { resolution: extras.resolution } : {}),
  };
}
