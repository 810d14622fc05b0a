import { bigint, bigserial, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { findings } from './findings.js';

export const ALERT_KINDS = ['opened', 'reminder', 'severity_raised', 'resolved'] as const;
export type OutboxAlertKind = (typeof ALERT_KINDS)[number];

/**
 * The outbox: one row per finding transition that notifies, written in the transaction of
 * the transition itself. `id` is the idempotency key every sink receives (webhook
 * Idempotency-Key, email Message-ID); `event` is the rendered AlertEvent (it holds no secret).
 */
export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Insertion order: deliveries of one finding to one sink go out in this order. */
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    findingId: bigint('finding_id', { mode: 'number' })
      .notNull()
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
