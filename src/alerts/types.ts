import type { Logger } from '../log.js';
import type { Severity } from '../rules/types.js';

export type AlertKind = 'opened' | 'reminder' | 'severity_raised' | 'resolved' | 'test';

/**
 * One notification about one finding transition, as every sink receives it. Every string
 * that comes from Cloudflare (resourceName, facts, accountName) is untrusted: each sink
 * escapes it for its own format and caps its length.
 */
export interface AlertEvent {
  /** Stable id of this alert (outbox row): the idempotency key sent to sinks that accept one. */
  alertId: string;
  kind: AlertKind;
  /** Finding fingerprint (rule id + resource key): PagerDuty's dedup_key, the thread key elsewhere. */
  fingerprint: string;
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
}

/** A daily digest: many events in one message. */
export interface DigestEvent {
  alertId: string;
  kind: 'digest';
  period: { from: string; to: string };
  events: AlertEvent[];
}

export type Deliverable = AlertEvent | DigestEvent;

export interface SinkContext {
  log: Logger;
  /** Abort a slow send when the process shuts down. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  now?: () => Date;
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
