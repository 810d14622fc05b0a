// Findings as OCSF Detection Finding events (class 2004, schema 1.3), one JSON object per line:
// what SIEMs (Security Lake, Splunk, Sentinel, Chronicle) ingest without a custom parser.
import type { Finding } from '../db/schema/index.js';
import type { Severity } from '../rules/types.js';
import { version } from '../util/version.js';

export const OCSF_VERSION = '1.3.0';
const CLASS_UID = 2004;
const CATEGORY_UID = 2; // Findings
const SEVERITY_ID: Record<Severity, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };
const SEVERITY_NAME: Record<Severity, string> = { info: 'Informational', low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' };

const ms = (d: Date | null | undefined) => (d ? d.getTime() : undefined);

/** Activity: an open finding is Create (1) when never reopened, else Update (2); a resolved one is Close (3). */
function activity(f: Finding): { id: number; name: string } {
  if (f.status === 'resolved') return { id: 3, name: 'Close' };
  return f.reopenedCount > 0 ? { id: 2, name: 'Update' } : { id: 1, name: 'Create' };
}

/** Status: New (1), Suppressed (3), Resolved (4). */
function status(f: Finding): { id: number; name: string } {
  if (f.status === 'resolved') return { id: 4, name: 'Resolved' };
  return f.suppressed ? { id: 3, name: 'Suppressed' } : { id: 1, name: 'New' };
}

export function toOcsf(f: Finding, now: Date = new Date()): Record<string, unknown> {
  const a = activity(f);
  const s = status(f);
  const severity = f.severity as Severity;
  return {
    class_uid: CLASS_UID,
    class_name: 'Detection Finding',
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    activity_id: a.id,
    activity_name: a.name,
    type_uid: CLASS_UID * 100 + a.id,
    type_name: `Detection Finding: ${a.name}`,
    severity_id: SEVERITY_ID[severity],
    severity: SEVERITY_NAME[severity],
    status_id: s.id,
    status: s.name,
    time: ms(f.lastSeenAt) ?? now.getTime(),
    message: f.title,
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'flarewatch', vendor_name: 'flarewatch', version: version() },
      uid: f.fingerprint,
      logged_time: now.getTime(),
    },
    finding_info: {
      uid: f.fingerprint,
      title: f.title,
      types: [f.ruleId],
      analytic: { uid: f.ruleId, name: f.ruleId, type_id: 1, type: 'Rule' },
      created_time: ms(f.firstSeenAt),
      first_seen_time: ms(f.firstSeenAt),
      last_seen_time: ms(f.lastSeenAt),
      ...(f.resolvedAt ? { modified_time: ms(f.resolvedAt) } : {}),
    },
    resources: [{ uid: f.resourceKey, type: f.resourceType, ...(f.resourceName ? { name: f.resourceName } : {}) }],
    cloud: { provider: 'Cloudflare', ...(f.accountId ? { account: { uid: f.accountId, type_id: 99, type: 'Cloudflare Account' } } : {}) },
    unmapped: { finding_id: f.id, facts: f.facts, suppression_id: f.suppressionId, reopened_count: f.reopenedCount },
  };
}

/** NDJSON: one event per line, no trailing newline. */
export const formatOcsf = (rows: Finding[], now?: Date) => rows.map((f) => JSON.stringify(toOcsf(f, now))).join('\n');
