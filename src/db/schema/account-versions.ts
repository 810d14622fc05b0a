import { boolean, index, pgTable, text } from 'drizzle-orm/pg-core';
import { versionColumns } from './version-columns.js';

/** Every state of every account's name and settings (2FA enforcement), over time. */
export const accountVersions = pgTable(
  'account_versions',
  {
    ...versionColumns,
    accountId: text('account_id').notNull(),
    name: text('name').notNull(),
    type: text('type'),
    enforceTwofactor: boolean('enforce_twofactor'),
  },
  (t) => [index('account_versions_account_idx').on(t.accountId, t.validFrom)],
);
