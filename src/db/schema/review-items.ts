import { index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { reviews } from './reviews.js';

/** What a reviewer signs off, one row per member or token, frozen at the review's start. */
export const reviewItems = pgTable(
  'review_items',
  {
    reviewId: integer('review_id').notNull().references(() => reviews.id),
    /** The resource key, as findings use it: `member:<account id>:<member id>`, `token:<token id>`. */
    itemKey: text('item_key').notNull(),
    kind: text('kind', { enum: ['member', 'token'] }).notNull(),
    accountId: text('account_id'),
    /** Email or token name: how a reviewer recognises it. */
    label: text('label').notNull(),
    /** Everything signed off: roles, policies, 2FA, last activity; owner, grants, expiry, last use, IP restriction, creator. */
    snapshot: jsonb('snapshot').notNull(),
  },
  (t) => [primaryKey({ columns: [t.reviewId, t.itemKey] }), index('review_items_account_idx').on(t.reviewId, t.accountId)],
);

export type ReviewItem = typeof reviewItems.$inferSelect;
