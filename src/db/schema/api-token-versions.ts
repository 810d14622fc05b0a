import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { versionColumns } from './version-columns.js';

/** Every state of every API token a sync observed: who owns it and what it could do, over time. */
export const apiTokenVersions = pgTable(
  'api_token_versions',
  {
    ...versionColumns,
    tokenId: text('token_id').notNull(),
    // Whose token it is (not compared: these never change for one token id).
    ownerType: text('owner_type', { enum: ['user', 'account'] }).notNull(),
    accountId: text('account_id'),
    userId: text('user_id'),
    // Tracked: a change to any of these is a new version.
    name: text('name'),
    status: text('status'),
    expiresOn: ts('expires_on'),
    notBefore: ts('not_before'),
    policies: jsonb('policies').notNull(),
    ipAllow: text('ip_allow').array(),
    ipDeny: text('ip_deny').array(),
  },
  (t) => [index('api_token_versions_token_idx').on(t.tokenId, t.validFrom), index('api_token_versions_valid_idx').on(t.validFrom, t.validTo)],
);

export type ApiTokenVersion = typeof apiTokenVersions.$inferSelect;
