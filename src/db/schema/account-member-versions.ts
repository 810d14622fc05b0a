import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { memberColumns } from './member-columns.js';
import { versionColumns } from './version-columns.js';

/** Every state of every account membership (pending ones are invitations): roles, policies, 2FA, over time. */
export const accountMemberVersions = pgTable(
  'account_member_versions',
  {
    ...versionColumns,
    memberId: text('member_id').notNull(),
    ...memberColumns,
  },
  (t) => [
    index('account_member_versions_member_idx').on(t.memberId, t.validFrom),
    index('account_member_versions_account_idx').on(t.accountId, t.validFrom),
  ],
);

export type AccountMemberVersion = typeof accountMemberVersions.$inferSelect;
