import { jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** One row per stream: where the next walk starts, and how the last one ended. */
export const syncState = pgTable('sync_state', {
  stream: text('stream').primaryKey(),
  checkpoint: jsonb('checkpoint'),
  lastSuccessAt: ts('last_success_at'),
  lastErrorAt: ts('last_error_at'),
  lastError: text('last_error'),
  /**
   * Deletions the mass-deletion guard held back: `{ ids, at, share }`. The next complete walk that
   * wants the same deletions marks them; `flarewatch sync <stream> --confirm-deletions` releases them now.
   */
  heldDeletions: jsonb('held_deletions'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});
