// What every sink says, before any format: labels, the resource line, facts as text, and
// the digest grouping. Pure; each sink escapes and caps the strings for its own format.
import type { ResolutionCategory } from '../findings/reasons.js';
import { SEVERITIES, type Severity } from '../rules/types.js';
import { type AlertEvent, type AlertKind, type AlertResolution, type Deliverable, type DigestEvent, isRemediationKind, type RemediationAlertKind, type SummaryEvent } from './types.js';

export const isDigest = (d: Deliverable): d is DigestEvent => d.kind === 'digest';
export const isSummary = (d: Deliverable): d is SummaryEvent => d.kind === 'summary';

export const SEVERITY_LABEL: Record<Severity, string> = {
  critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', info: 'Info',
};

export const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: '🔴', high: '🟠', medium: '🟡', low: '🔵', info: '⚪',
};

/** Most severe first. */
export const SEVERITY_ORDER: readonly Severity[] = [...SEVERITIES].reverse();

export const KIND_LABEL: Record<AlertKind, string> = {
  opened: 'New finding',
  reminder: 'Still open',
  severity_raised: 'Severity raised',
  resolved: 'Resolved',
  test: 'Test alert',
  'remediation.pending': 'Remediation plan waits for approval',
  'remediation.applied': 'Remediation applied',
  'remediation.failed': 'Remediation failed',
  'remediation.skipped': 'Remediation skipped: the object changed since the plan',
  'remediation.notice': 'Notice of a hygiene action',
  'remediation.cancelled': 'Hygiene action cancelled',
  'remediation.undone': 'Remediation undone',
};

export const REMEDIATION_ICON: Record<RemediationAlertKind, string> = {
  'remediation.pending': '⏳', 'remediation.applied': '🛠️', 'remediation.failed': '❌', 'remediation.skipped': '⏭️',
  'remediation.notice': '📣', 'remediation.cancelled': '🚫', 'remediation.undone': '↩️',
};

/**
 * What a message leads with: a remediation step says what happened ("Remediation failed"), a
 * resolution how it ended, anything else its severity. Trusted text.
 */
export function headline(e: AlertEvent): string {
  if (isRemediationKind(e.kind)) return KIND_LABEL[e.kind];
  return e.kind === 'resolved' ? resolvedLabel(e) : SEVERITY_LABEL[e.severity];
}

/** The most specific label for the resource: its name, else its key. Untrusted. */
export const resourceLabel = (e: AlertEvent): string => (e.resourceName?.trim() ? e.resourceName : e.resourceKey);

/** Account name, else id, else undefined. Untrusted. */
export const accountLabel = (e: AlertEvent): string | undefined =>
  (e.accountName?.trim() ? e.accountName : undefined) ?? e.accountId ?? undefined;

export const RESOLUTION_LABEL: Record<ResolutionCategory, string> = {
  fixed: 'Resolved', acknowledged: 'Acknowledged', suppressed: 'Suppressed', administrative: 'Closed',
};

export const RESOLUTION_ICON: Record<ResolutionCategory, string> = {
  fixed: '✅', acknowledged: '☑️', suppressed: '🔕', administrative: '⏹️',
};

/** "Resolved", "Acknowledged", "Suppressed" or "Closed". */
export const resolvedLabel = (e: AlertEvent) => RESOLUTION_LABEL[e.resolution?.category ?? 'fixed'];
export const resolvedIcon = (e: AlertEvent) => RESOLUTION_ICON[e.resolution?.category ?? 'fixed'];

/** The icon beside `headline(e)`: the remediation step's, the resolution's, else the severity's. */
export function headlineIcon(e: AlertEvent): string {
  if (isRemediationKind(e.kind)) return REMEDIATION_ICON[e.kind];
  return e.kind === 'resolved' ? resolvedIcon(e) : SEVERITY_EMOJI[e.severity];
}

/** Who closed it and what they wrote, e.g. "by alice: expected change". Untrusted (operator text). */
export function resolutionBy(r: AlertResolution | undefined): string | undefined {
  if (!r?.by && !r?.note) return undefined;
  return [r.by ? `by ${r.by}` : '', r.note ?? ''].filter(Boolean).join(': ');
}

/** One line describing the change, e.g. "Severity raised from medium to high". Trusted text (a resolution's reason is ours). */
export function kindLine(e: AlertEvent): string {
  if (e.kind === 'severity_raised' && e.previousSeverity) {
    return `Severity raised from ${e.previousSeverity} to ${e.severity}`;
  }
  if (e.kind === 'reminder') return `Still open since ${e.firstSeenAt}`;
  // "Acknowledged" and "Suppressed" say it all; other endings name the reason ("Closed: rule disabled").
  if (e.kind === 'resolved' && e.resolution) return e.resolution.reason === e.resolution.category ? resolvedLabel(e) : `${resolvedLabel(e)}: ${e.resolution.reason}`;
  return KIND_LABEL[e.kind];
}

/** How to close a detection, for its opening alert. Trusted text. */
export function ackHint(e: AlertEvent): string | undefined {
  if (e.findingKind !== 'detection' || e.kind === 'resolved' || e.findingId === undefined) return undefined;
  return `Detection: open until acknowledged with \`npx flarewatch findings ack ${e.findingId} --by <you> --note "…"\``;
}

/** "Now watching 223 open findings, 12 high or critical". Trusted text. */
export function summaryHeadline(s: SummaryEvent): string {
  return `flarewatch is now watching ${s.open} open finding${s.open === 1 ? '' : 's'}, ${s.highOrCritical} high or critical`;
}

/** "3 critical, 9 high, ... · 4 detections · 223 recorded without alerts". Trusted text. */
export function summaryDetail(s: SummaryEvent): string {
  const counts = SEVERITY_ORDER.filter((sev) => s.counts[sev]).map((sev) => `${s.counts[sev]} ${sev}`).join(', ') || 'nothing open';
  return `${counts} · ${s.detections} detection${s.detections === 1 ? '' : 's'} · ${s.baselined} recorded without alerts`;
}

/** A fact value as text: strings as they are, everything else as compact JSON. */
export function factText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '—';
  if (v instanceof Date) return v.toISOString();
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Facts as [key, text] pairs in their own order, at most `max` of them. */
export function factEntries(facts: Record<string, unknown>, max = 20): Array<[string, string]> {
  return Object.entries(facts ?? {}).slice(0, max).map(([k, v]) => [k, factText(v)]);
}

/** A dashboard link we are willing to render: http(s) only, no credentials, bounded length. */
export function safeUrl(url: string | null | undefined, max = 2000): string | undefined {
  if (!url || url.length > max) return undefined;
  try {
    const u = new URL(url);
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password) return undefined;
    return u.toString();
  } catch {
    return undefined;
  }
}

export interface DigestRuleGroup {
  ruleId: string;
  title: string;
  events: AlertEvent[];
}

export interface DigestSeverityGroup {
  severity: Severity;
  count: number;
  rules: DigestRuleGroup[];
}

/**
 * A digest's events grouped by severity (most severe first), then by rule (most events
 * first, then rule id), events within a rule by resource label. Empty severities are left out.
 */
export function groupDigest(events: readonly AlertEvent[]): DigestSeverityGroup[] {
  const groups: DigestSeverityGroup[] = [];
  for (const severity of SEVERITY_ORDER) {
    const ofSeverity = events.filter((e) => e.severity === severity);
    if (ofSeverity.length === 0) continue;
    const byRule = new Map<string, DigestRuleGroup>();
    for (const e of ofSeverity) {
      const g = byRule.get(e.ruleId) ?? { ruleId: e.ruleId, title: e.title, events: [] };
      g.events.push(e);
      byRule.set(e.ruleId, g);
    }
    const rules = [...byRule.values()].sort(
      (a, b) => b.events.length - a.events.length || a.ruleId.localeCompare(b.ruleId),
    );
    for (const r of rules) r.events.sort((a, b) => resourceLabel(a).localeCompare(resourceLabel(b)));
    groups.push({ severity, count: ofSeverity.length, rules });
  }
  return groups;
}

/** Events in digest order (severity, rule, resource), flattened. */
export const digestOrder = (events: readonly AlertEvent[]): AlertEvent[] =>
  groupDigest(events).flatMap((g) => g.rules.flatMap((r) => r.events));

/** "3 critical, 1 high" */
export const digestCounts = (groups: readonly DigestSeverityGroup[]): string =>
  groups.map((g) => `${g.count} ${g.severity}`).join(', ') || 'nothing';

/** Deep copy of a JSON-like value with every string capped at `max` (depth-limited). */
export function capStrings(value: unknown, max: number, cap: (s: string, m: number) => string, depth = 0): unknown {
  if (typeof value === 'string') return cap(value, max);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => capStrings(v, max, cap, depth + 1));
  return Object.fromEntries(
    Object.entries(value).slice(0, 100).map(([k, v]) => [cap(k, 200), capStrings(v, max, cap, depth + 1)]),
  );
}
