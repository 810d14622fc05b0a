import { type SQL, sql } from 'drizzle-orm';
import { REASONS } from '../findings/reasons.js';
import type { RuleHit } from './types.js';
import { auditWindow, bind, iso, liveAccount, type Timestamp } from './sql.js';

// Detections: audit-log rules report events, grouped per rule, subject (the actor, or the API
// token that acted) and window, so a burst of 84 token grants by one person is one detection.

export interface AuditRow extends Record<string, unknown> {
  source: string; id: string; event_time: Timestamp; account_id: string | null; action_type: string | null;
  resource_type: string | null; resource_id: string | null; actor_email: string | null; actor_ip: string | null;
  actor_token_id: string | null; actor_token_name: string | null; subject: string; window_start: Timestamp;
}

// ---- detections: audit entries grouped per rule, subject and window ----

/** Who did it: the API token that acted, else the actor's email, id or address. */
export const DETECTION_SUBJECT = sql`(case when a.actor_token_id is not null then 'token:' || a.actor_token_id
  else 'actor:' || coalesce(lower(a.actor_email), a.actor_id, a.actor_ip, 'unknown') end)`;

/** The start of the window an entry falls in: windows of `hours`, aligned on the Unix epoch (24 = UTC days). */
export const windowStart = (hours: number, col: SQL = sql`a.event_time`) =>
  sql`date_bin(make_interval(hours => ${bind(hours)}::int), ${col}, timestamptz '1970-01-01 00:00:00+00')`;

/** The entry columns a detection rule selects from `audit_logs a`, with its subject and window. */
export const AUDIT_COLUMNS = (hours: number) =>
  sql`a.source, a.id, a.event_time, a.account_id, a.action_type, a.resource_type, a.resource_id, a.actor_email, a.actor_ip,
      a.actor_token_id, a.actor_token_name, ${DETECTION_SUBJECT} as subject, ${windowStart(hours)} as window_start`;

/** Audit entries a detection looks at, as `a`: inside the look-back, of live accounts (or none). */
export const auditScope = (now: Date, days: number) => sql`${auditWindow(now, days)} and ${liveAccount(sql`a.account_id`)}`;

export const lookbackThreshold = { lookbackDays: { default: 7, description: 'days of audit log to look back over' } };

export const detectionThresholds = {
  ...lookbackThreshold,
  groupHours: {
    default: 24,
    description: 'events of one subject (actor or API token) within one window of this many hours (aligned on the Unix epoch: 24 = UTC days) are one detection',
  },
};

/** `<subject>|<window start, UTC to the minute>`, e.g. `actor:alice@example.com|2030-01-01T00:00Z`. */
export const detectionKey = (subject: string, start: Timestamp) => `${subject}|${new Date(start).toISOString().slice(0, 16)}Z`;

/** The per-entry audit findings of earlier versions ('audit:<source>:<id>') are closed once, without chat noise. */
export const retirePerEntryKeys = (key: string) => (key.startsWith('audit:') ? REASONS.retired : undefined);

/** Entries grouped by detection key, in event order. */
export function groupBySubjectAndWindow<R extends AuditRow>(rows: R[]): Map<string, R[]> {
  const out = new Map<string, R[]>();
  for (const r of [...rows].sort((a, b) => Date.parse(String(iso(a.event_time))) - Date.parse(String(iso(b.event_time))))) {
    const key = detectionKey(r.subject, r.window_start);
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return out;
}

const DETECTION_LIST_MAX = 20;

/**
 * One detection from the entries of one subject and window: who, when (first and last event),
 * how many, and `listed` (one object per entry, the first 20) under `listName`.
 */
export function detectionHit(
  key: string, entries: AuditRow[], hours: number,
  opts: { listName: string; listed: (r: AuditRow) => Record<string, unknown>; severity?: RuleHit['severity']; facts?: Record<string, unknown> },
): RuleHit {
  const first = entries[0]!;
  const last = entries.at(-1)!;
  const accounts = [...new Set(entries.map((e) => e.account_id).filter((a): a is string => a !== null))];
  const token = first.subject.startsWith('token:');
  return {
    resourceKey: key,
    resourceType: token ? 'token' : 'actor',
    resourceName: token ? (first.actor_token_name ?? first.actor_token_id) : (first.actor_email ?? first.subject.slice('actor:'.length)),
    accountId: accounts.length === 1 ? accounts[0]! : null,
    ...(opts.severity ? { severity: opts.severity } : {}),
    lastEventAt: iso(last.event_time),
    facts: {
      subject: first.subject, actor_email: first.actor_email, actor_token: first.actor_token_name ?? first.actor_token_id,
      window_start: iso(first.window_start), window_hours: hours, entries: entries.length,
      first_event_at: iso(first.event_time), last_event_at: iso(last.event_time),
      ips: [...new Set(entries.map((e) => e.actor_ip).filter(Boolean))].slice(0, DETECTION_LIST_MAX), accounts,
      ...opts.facts,
      [opts.listName]: entries.slice(0, DETECTION_LIST_MAX).map((e) => ({ event_time: iso(e.event_time), source: e.source, id: e.id, action: e.action_type, ...opts.listed(e) })),
    },
  };
}

