import { bigserial, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * Accepted risk, as data: a rule (or '*') and a resource key pattern (exact, or glob with
 * '*'). Matching findings stay visible, flagged suppressed, until the suppression expires.
 */
export const suppressions = pgTable('suppressions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  ruleId: text('rule_id').notNull(),
  resourcePattern: text('resource_pattern').notNull(),
  reason: text('reason').notNull(),
  createdBy: text('created_by'),
  createdAt: ts('created_at').notNull().defaultNow(),
  expiresAt: ts('expires_at'),
});

export type Suppression = typeof suppressions.$inferSelect;
