import { pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { syncColumns } from './columns.js';

/**
 * Token permission groups as listed for the user (source = 'user') or for an account
 * (source = the account id). Ids are global; the view permission_group_names dedupes them.
 */
export const permissionGroups = pgTable(
  'permission_groups',
  {
    source: text('source').notNull(),
    id: text('id').notNull(),
    name: text('name'),
    scopes: text('scopes').array(),
    category: text('category'),
    ...syncColumns,
  },
  (t) => [primaryKey({ columns: [t.source, t.id] })],
);
