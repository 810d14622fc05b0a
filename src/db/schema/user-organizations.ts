import { pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { syncColumns } from './columns.js';

/**
 * GET /user/organizations (deprecated by Cloudflare, still served). Two users can belong to the
 * same organisation, so a row is one user's view of it.
 */
export const userOrganizations = pgTable(
  'user_organizations',
  {
    /** The user (or `credential:<name>`) whose listing returned it. */
    userId: text('user_id').notNull(),
    id: text('id').notNull(),
    name: text('name'),
    status: text('status'),
    roles: text('roles').array(),
    permissions: text('permissions').array(),
    ...syncColumns,
  },
  (t) => [primaryKey({ columns: [t.userId, t.id] })],
);
