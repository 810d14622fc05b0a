import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns } from './columns.js';
import { memberColumns } from './member-columns.js';

/** GET /accounts/{id}/members. A pending member is an outstanding invitation to the account. */
export const accountMembers = pgTable(
  'account_members',
  {
    id: text('id').primaryKey(),
    ...memberColumns,
    ...syncColumns,
  },
  (t) => [index('account_members_account_idx').on(t.accountId)],
);
