import { jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { syncColumns } from './columns.js';

/**
 * GET /accounts/{id}/iam/permission_groups: the groups member and user-group policies refer to
 * (id, name, meta only; the token catalogue with scopes is `permission_groups`).
 */
export const iamPermissionGroups = pgTable(
  'iam_permission_groups',
  {
    accountId: text('account_id').notNull(),
    id: text('id').notNull(),
    name: text('name'),
    meta: jsonb('meta'),
    ...syncColumns,
  },
  (t) => [primaryKey({ columns: [t.accountId, t.id] })],
);
