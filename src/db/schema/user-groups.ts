import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { userGroupColumns, userGroupMemberColumns } from './access-columns.js';
import { syncColumns, ts } from './columns.js';

/** GET /accounts/{id}/iam/user_groups. The group object does not list its members. */
export const userGroups = pgTable(
  'user_groups',
  {
    id: text('id').primaryKey(),
    ...userGroupColumns,
    createdOn: ts('created_on'),
    modifiedOn: ts('modified_on'),
    ...syncColumns,
  },
  (t) => [index('user_groups_account_idx').on(t.accountId)],
);

/**
 * GET /accounts/{id}/iam/user_groups/{group_id}/members. The member object does not say which
 * groups it is in, so this is the only way from a member to its groups. `id` is
 * `<group_id>:<member_id>` so history can key a membership on one column.
 */
export const userGroupMembers = pgTable(
  'user_group_members',
  {
    id: text('id').primaryKey(),
    ...userGroupMemberColumns,
    ...syncColumns,
  },
  (t) => [index('user_group_members_group_idx').on(t.groupId), index('user_group_members_member_idx').on(t.memberId)],
);
