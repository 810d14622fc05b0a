import { pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * Which credential can reach which account (from its /accounts walk, or its configured list for an
 * account-owned token). An account is gone only when no configured credential reaches it any more.
 */
export const accountAccess = pgTable(
  'account_access',
  {
    credential: text('credential').notNull(),
    accountId: text('account_id').notNull(),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    deletedAt: ts('deleted_at'),
    deletedReason: text('deleted_reason'),
  },
  (t) => [primaryKey({ columns: [t.credential, t.accountId] })],
);
