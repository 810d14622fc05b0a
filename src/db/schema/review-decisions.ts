import { bigserial, foreignKey, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
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
    // A hash chain per review, filled by the insert trigger (migration 0018; src/review/chain.ts says how):
    // this row's place, the hash of the row before it (64 zeros for the first), and its own hash.
    chainSeq: integer('chain_seq').notNull().default(0),
    prevHash: text('prev_hash').notNull().default(''),
    rowHash: text('row_hash').notNull().default(''),
  },
  (t) => [
    foreignKey({ columns: [t.reviewId, t.itemKey], foreignColumns: [reviewItems.reviewId, reviewItems.itemKey] }),
    index('review_decisions_item_idx').on(t.reviewId, t.itemKey, t.decidedAt),
    uniqueIndex('review_decisions_chain_idx').on(t.reviewId, t.chainSeq),
  ],
);

export type ReviewDecision = typeof reviewDecisions.$inferSelect;
