import type { ResolutionCategory } from '../findings/reasons.js';
import type { Logger } from '../log.js';
import type { Severity } from '../rules/types.js';
import { REMEDIATION_ALERT_KINDS } from '../db/schema/alerts.js';

export type RemediationAlertKind = (typeof REMEDIATION_ALERT_KINDS)[number];
export type AlertKind = 'opened' | 'reminder' | 'severity_raised' | 'resolved' | 'test' | RemediationAlertKind;

/** A remediation step's alert (no finding): its own kind, its own webhook event name, its own PagerDuty handling. */
export const isRemediationKind = (k: string): k is RemediationAlertKind => (REMEDIATION_ALERT_KINDS as readonly string[]).includes(k);

/** Why a resolved alert was sent: what closed the episode, in the findings' own words. */
export interface AlertResolution {
  /** 'no longer detected', 'acknowledged', 'suppressed', 'rule disabled', 'account <id> <why>', ... */
  reason: string;
  category: ResolutionCategory;
  by?: string | null;
  note?: string | null;
}

/**
 * One notification about one finding transition, as every sink receives it. Every string
 * that comes from Cloudflare (resourceName, facts, accountName) is untrusted: each sink
 * escapes it for its own format and caps its length.
 */
export interface AlertEvent {
  /** Stable id of this alert (outbox row): the idempotency key sent to sinks that accept one. */
  alertId: string;
  kind: AlertKind;
  /**
   * Finding fingerprint (rule id + resource key): PagerDuty's dedup_key, the thread key elsewhere.
   * Follow-ups of an episode (raise, reminder, resolution) carry the one the episode started under.
   */
  fingerprint: string;
  /** The finding's id (`flarewatch findings ack <id>`); absent in samples. */
  findingId?: number;
  /** state: open while true; detection: something happened, open until acknowledged. */
  findingKind?: 'state' | 'detection';
  ruleId: string;
  title: string;
  severity: Severity;
  previousSeverity?: Severity;
  resourceType: string;
  resourceKey: string;
  resourceName?: string | null;
  accountId?: string | null;
  accountName?: string | null;
  facts: Record<string, unknown>;
  rationale?: string;
  remediation?: string;
  /** Link to the Cloudflare dashboard page for the resource, where one exists. */
  dashboardUrl?: string | null;
  firstSeenAt: string;
  occurredAt: string;
  /** Resolved alerts: why. */
  resolution?: AlertResolution;
}

/** One finding of a summary's short list. Untrusted strings, as in AlertEvent. */
export interface SummaryItem {
  ruleId: string;
  title: string;
  severity: Severity;
  findingKind: 'state' | 'detection';
  resourceKey: string;
  resourceName?: string | null;
  accountName?: string | null;
}

/**
 * A baseline's one message per sink: what flarewatch now watches (open findings routed to
 * the sink), the most severe few, and how to list them, instead of one alert per finding.
 */
export interface SummaryEvent {
  alertId: string;
  kind: 'summary';
  occurredAt: string;
  /** Open, unsuppressed findings this sink would be told about. */
  open: number;
  highOrCritical: number;
  counts: Partial<Record<Severity, number>>;
  detections: number;
  /** Findings this baseline recorded without alerts (all sinks). */
  baselined: number;
  /** The rules whose first check (or a --baseline run, or a first walk of an account) made this a baseline. */
  rules: string[];
  top: SummaryItem[];
  /** A command that lists them. */
  listCommand: string;
}

/** A daily digest: many events in one message. */
export interface DigestEvent {
  alertId: string;
  kind: 'digest';
  period: { from: string; to: string };
  events: AlertEvent[];
}

export type Deliverable = AlertEvent | DigestEvent | SummaryEvent;

export interface SinkContext {
  log: Logger;
  /** Abort a slow send when the process shuts down. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  now?: () => Date;
  /** alerts.refusePrivateAddresses: HTTP sinks connect only to public addresses (alerts/guarded-fetch.ts). */
  refusePrivateAddresses?: boolean;
}

export interface SendResult {
  /** What the sink answered that is worth keeping (HTTP status, SMTP message id, PagerDuty dedup key). */
  detail?: string;
}

/** Thrown for a failure retrying cannot fix (bad URL, 400 from the sink, auth refused). */
export class PermanentSinkError extends Error {
  override name = 'PermanentSinkError';
}

/** Every sink has this one shape (STYLE.md #9). */
export type Sender<C> = (event: Deliverable, config: C, ctx: SinkContext) => Promise<SendResult>;
