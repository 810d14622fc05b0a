import { bigint, bigserial, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { findings } from './findings.js';

/**
 * A remediation step (src/remediation/alerts.ts), no finding_id: a plan waiting for approval, an
 * action applied, failed or skipped because the object moved, a hygiene notice given or cancelled, an undo.
 */
export const REMEDIATION_ALERT_KINDS = ['remediation.pending', 'remediation.applied', 'remediation.failed', 'remediation.skipped',
  'remediation.notice', 'remediation.cancelled', 'remediation.undone'] as const;

/** `summary`: a baseline's one message per sink, about many findings (no finding_id). */
export const ALERT_KINDS = ['opened', 'reminder', 'severity_raised', 'resolved', 'summary', ...REMEDIATION_ALERT_KINDS] as const;
export type OutboxAlertKind = (typeof ALERT_KINDS)[number];

/**
 * The outbox: one row per finding transition that notifies, written in the transaction of
 * the transition itself. `id` is the idempotency key every sink receives (webhook
 * Idempotency-Key, email Message-ID); `event` is the rendered AlertEvent (it holds no secret).
 * A finding's episode is its alerts after its last `resolved` one: resolutions and reminders
 * go to the sinks of the episode, and carry the fingerprint it started under.
 */
export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Insertion order: deliveries of one finding to one sink go out in this order. */
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    /** Null for a summary. */
    findingId: bigint('finding_id', { mode: 'number' })
      .references(() => findings.id, { onDelete: 'cascade' }),
    fingerprint: text('fingerprint').notNull(),
    kind: text('kind', { enum: ALERT_KINDS }).notNull(),
    severity: text('severity', { enum: ['info', 'low', 'medium', 'high', 'critical'] }).notNull(),
    event: jsonb('event').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('alerts_finding_idx').on(t.findingId, t.kind, t.createdAt)],
);

export type Alert = typeof alerts.$inferSelect;
