import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns, ts } from './columns.js';

/** User-owned (GET /user/tokens) and account-owned (GET /accounts/{id}/tokens) API tokens. The secret value is never stored. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    ownerType: text('owner_type', { enum: ['user', 'account'] }).notNull(),
    accountId: text('account_id'),
    /** Owner of a user token: the Cloudflare user id, or `credential:<name>` when the credential cannot read /user. */
    userId: text('user_id'),
    name: text('name'),
    status: text('status'),
    issuedOn: ts('issued_on'),
    modifiedOn: ts('modified_on'),
    lastUsedOn: ts('last_used_on'),
    notBefore: ts('not_before'),
    expiresOn: ts('expires_on'),
    ipAllow: text('ip_allow').array(),
    ipDeny: text('ip_deny').array(),
    policies: jsonb('policies').notNull(),
    ...syncColumns,
  },
  (t) => [index('api_tokens_owner_idx').on(t.ownerType, t.accountId), index('api_tokens_user_idx').on(t.userId)],
);
