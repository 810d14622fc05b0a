import { pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns } from './columns.js';

/** GET /user/organizations (deprecated by Cloudflare, still served). */
export const userOrganizations = pgTable('user_organizations', {
  id: text('id').primaryKey(),
  name: text('name'),
  status: text('status'),
  roles: text('roles').array(),
  permissions: text('permissions').array(),
  ...syncColumns,
});
