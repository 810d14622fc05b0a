import { index, pgTable, text } from 'drizzle-orm/pg-core';
import {
  organizationAccountColumns, organizationMemberColumns, resourceGroupColumns, userGroupColumns, userGroupMemberColumns,
} from './access-columns.js';
import { versionColumns } from './version-columns.js';

// History of every access path besides members and tokens (which have their own version tables):
// effective_access_at(t) reads these to rebuild a past picture.

export const userGroupVersions = pgTable(
  'user_group_versions',
  { ...versionColumns, groupId: text('group_id').notNull(), ...userGroupColumns },
  (t) => [index('user_group_versions_group_idx').on(t.groupId, t.validFrom), index('user_group_versions_account_idx').on(t.accountId, t.validFrom)],
);

export const userGroupMemberVersions = pgTable(
  'user_group_member_versions',
  { ...versionColumns, membershipId: text('membership_id').notNull(), ...userGroupMemberColumns },
  (t) => [
    index('user_group_member_versions_key_idx').on(t.membershipId, t.validFrom),
    index('user_group_member_versions_member_idx').on(t.memberId, t.validFrom),
    index('user_group_member_versions_account_idx').on(t.accountId, t.validFrom),
  ],
);

export const resourceGroupVersions = pgTable(
  'resource_group_versions',
  { ...versionColumns, resourceGroupId: text('resource_group_id').notNull(), ...resourceGroupColumns },
  (t) => [index('resource_group_versions_key_idx').on(t.resourceGroupId, t.validFrom)],
);

export const organizationMemberVersions = pgTable(
  'organization_member_versions',
  { ...versionColumns, membershipId: text('membership_id').notNull(), ...organizationMemberColumns },
  (t) => [index('organization_member_versions_key_idx').on(t.membershipId, t.validFrom), index('organization_member_versions_user_idx').on(t.userId, t.validFrom)],
);

export const organizationAccountVersions = pgTable(
  'organization_account_versions',
  { ...versionColumns, linkId: text('link_id').notNull(), ...organizationAccountColumns },
  (t) => [index('organization_account_versions_key_idx').on(t.linkId, t.validFrom), index('organization_account_versions_account_idx').on(t.accountId, t.validFrom)],
);
