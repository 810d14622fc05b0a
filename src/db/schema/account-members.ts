import { boolean, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns } from './columns.js';

/** GET /accounts/{id}/members. A pending member is an outstanding invitation to the account. */
export const accountMembers = pgTable(
  'account_members',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    userId: text('user_id'),
    email: text('email'),
    status: text('status'),
    twoFactorEnabled: boolean('two_factor_enabled'),
    roleIds: text('role_ids').array(),
    roleNames: text('role_names').array(),
    policies: jsonb('policies'),
    ...syncColumns,
  },
  (t) => [index('account_members_account_idx').on(t.accountId)],
);
