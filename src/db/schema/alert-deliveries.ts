import { bigserial, index, integer, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { alerts } from './alerts.js';
import { ts } from './columns.js';

export const DELIVERY_STATUSES = ['pending', 'sending', 'sent', 'failed', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One row per (alert, sink), inserted with the alert, before any send. A deliverer claims a
 * row by moving it to `sending` (FOR UPDATE SKIP LOCKED) with a lease in next_attempt_at;
 * a row left in `sending` past its lease (the process died mid-send) is claimed again.
 */
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    alertId: uuid('alert_id')
      .notNull()
      .references(() => alerts.id, { onDelete: 'cascade' }),
    sink: text('sink').notNull(),
    mode: text('mode', { enum: ['immediate', 'digest'] }).notNull().default('immediate'),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** pending/failed: when it is due; sending: when the lease runs out. */
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    lastError: text('last_error'),
    sentAt: ts('sent_at'),
    detail: text('detail'),
    /** Digest mode: the digest this row went out in (its idempotency key), kept across retries. */
    digestId: uuid('digest_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    unique('alert_deliveries_alert_sink_uq').on(t.alertId, t.sink),
    index('alert_deliveries_due_idx').on(t.sink, t.status, t.nextAttemptAt),
  ],
);

export type AlertDelivery = typeof alertDeliveries.$inferSelect;
