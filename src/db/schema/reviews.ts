import { integer, jsonb, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * One access review: a snapshot of who has what, frozen when it started (review_items,
 * review_findings), then the decisions reviewers record on it (review_decisions). Nothing of a
 * review changes after it started except that decisions are added: its evidence pack is reproducible.
 */
export const reviews = pgTable('reviews', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  /** The accounts reviewed; null: every watched account. */
  accounts: text('accounts').array(),
  startedAt: ts('started_at').notNull(),
  startedBy: text('started_by'),
  /** How fresh the data was: each stream in scope with its last success (and last error) when the snapshot was taken. */
  freshness: jsonb('freshness').notNull(),
  /** The review this one is compared with by default (`review diff`): the previous one. */
  previousId: integer('previous_id'),
});

export type Review = typeof reviews.$inferSelect;
