import { boolean, jsonb, text } from 'drizzle-orm/pg-core';

/** What a membership is: the columns `account_members` holds and each of its versions records. */
export const memberColumns = {
  accountId: text('account_id').notNull(),
  userId: text('user_id'),
  email: text('email'),
  status: text('status'),
  twoFactorEnabled: boolean('two_factor_enabled'),
  roleIds: text('role_ids').array(),
  roleNames: text('role_names').array(),
  policies: jsonb('policies'),
};
