import { bigserial, foreignKey, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { reviewItems } from './review-items.js';

/**
 * Every decision on a review item, as recorded (several reviewers, each with the time). Decisions
 * are data: never updated or deleted (a trigger refuses it); a later decision supersedes an earlier one.
 */
export const reviewDecisions = pgTable(
  'review_decisions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    reviewId: integer('review_id').notNull(),
    itemKey: text('item_key').notNull(),
    decision: text('decision', { enum: ['keep', 'revoke'] }).notNull(),
    decidedBy: text('decided_by').notNull(),
    decidedAt: ts('decided_at').notNull(),
    note: text('note'),
  },
  (t) => [
    foreignKey({ columns: [t.reviewId, t.itemKey], foreignColumns: [reviewItems.reviewId, reviewItems.itemKey] }),
    index('review_decisions_item_idx').on(t.reviewId, t.itemKey, t.decidedAt),
  ],
);

export type ReviewDecision = typeof reviewDecisions.$inferSelect;
