import { bigserial, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** Audit entries that failed validation (no id, bad timestamp): kept verbatim with the reason, never silently dropped. */
export const auditLogQuarantine = pgTable(
  'audit_log_quarantine',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    stream: text('stream').notNull(),
    position: text('position'),
    reason: text('reason').notNull(),
    rawText: text('raw_text').notNull(),
    rawHash: text('raw_hash').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
  },
  // The same bad entry re-read by an overlapping window is recorded once.
  (t) => [uniqueIndex('audit_log_quarantine_stream_hash_idx').on(t.stream, t.rawHash), index('audit_log_quarantine_received_idx').on(t.receivedAt)],
);
