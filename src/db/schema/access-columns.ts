import { boolean, jsonb, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

// What each access-path object is: the columns its current table holds and each of its versions
// records, defined once (like member-columns.ts). Raw API objects stay on the current tables only.

/** A user group (GET /accounts/{id}/iam/user_groups): its policies apply to every member it lists. */
export const userGroupColumns = {
  accountId: text('account_id').notNull(),
  name: text('name'),
  /** The group's policies as the API returned them: [{ id, access, permission_groups, resource_groups }]. */
  policies: jsonb('policies').notNull(),
};

/** One member of one user group (GET …/user_groups/{id}/members); member_id is the account member id. */
export const userGroupMemberColumns = {
  groupId: text('group_id').notNull(),
  memberId: text('member_id').notNull(),
  accountId: text('account_id').notNull(),
  email: text('email'),
  status: text('status'),
};

/** A resource group (GET /accounts/{id}/iam/resource_groups): scope.key narrowed by scope.objects[].key. */
export const resourceGroupColumns = {
  accountId: text('account_id').notNull(),
  name: text('name'),
  scopeKey: text('scope_key'),
  objectKeys: text('object_keys').array(),
};

/** A member of an organization (GET /organizations/{id}/members): implicit Super Administrator on its accounts. */
export const organizationMemberColumns = {
  organizationId: text('organization_id').notNull(),
  memberId: text('member_id').notNull(),
  userId: text('user_id'),
  email: text('email'),
  status: text('status'),
  twoFactorEnabled: boolean('two_factor_enabled'),
};

/** An account under an organization (GET /organizations/{id}/accounts). */
export const organizationAccountColumns = {
  organizationId: text('organization_id').notNull(),
  accountId: text('account_id').notNull(),
  accountName: text('account_name'),
};

export { ts };
