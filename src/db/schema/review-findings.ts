import { bigint, boolean, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { reviews } from './reviews.js';

/** The open findings on a review's items and accounts when it started, with the controls their rules support. */
export const reviewFindings = pgTable(
  'review_findings',
  {
    reviewId: integer('review_id').notNull().references(() => reviews.id),
    findingId: bigint('finding_id', { mode: 'number' }).notNull(),
    /** The review item it is about (null: about an account). */
    itemKey: text('item_key'),
    ruleId: text('rule_id').notNull(),
    kind: text('kind').notNull(),
    severity: text('severity').notNull(),
    title: text('title').notNull(),
    resourceKey: text('resource_key').notNull(),
    resourceName: text('resource_name'),
    accountId: text('account_id'),
    suppressed: boolean('suppressed').notNull(),
    suppressionReason: text('suppression_reason'),
    facts: jsonb('facts').notNull(),
    firstSeenAt: ts('first_seen_at').notNull(),
    controls: text('controls').array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.reviewId, t.findingId] })],
);

export type ReviewFinding = typeof reviewFindings.$inferSelect;
