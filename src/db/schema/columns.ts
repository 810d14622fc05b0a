import { jsonb, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Columns every synced object carries: the full API object and its life in our store. */
export const syncColumns = {
  raw: jsonb('raw').notNull(),
  firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
  lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  deletedAt: ts('deleted_at'),
  /** Why deleted_at was set: absent from a complete walk, confirmed gone (404), its account removed or not watched. */
  deletedReason: text('deleted_reason'),
};

export { ts };
