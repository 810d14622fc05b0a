import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { organizationAccountColumns, organizationMemberColumns } from './access-columns.js';
import { syncColumns } from './columns.js';

/** GET /organizations (public beta): the organizations a credential reaches. */
export const organizations = pgTable('organizations', {
  id: text('id').primaryKey(),
  name: text('name'),
  /** The credential whose walk last listed it: an organization one credential no longer sees is its walk's to delete. */
  credential: text('credential'),
  ...syncColumns,
});

/** GET /organizations/{id}/members. `id` is `<organization_id>:<member_id>`. */
export const organizationMembers = pgTable(
  'organization_members',
  {
    id: text('id').primaryKey(),
    ...organizationMemberColumns,
    ...syncColumns,
  },
  (t) => [index('organization_members_org_idx').on(t.organizationId), index('organization_members_user_idx').on(t.userId)],
);

/** GET /organizations/{id}/accounts. `id` is `<organization_id>:<account_id>`. */
export const organizationAccounts = pgTable(
  'organization_accounts',
  {
    id: text('id').primaryKey(),
    ...organizationAccountColumns,
    ...syncColumns,
  },
  (t) => [index('organization_accounts_org_idx').on(t.organizationId), index('organization_accounts_account_idx').on(t.accountId)],
);
