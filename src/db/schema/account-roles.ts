import { jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { syncColumns } from './columns.js';

/** GET /accounts/{id}/roles (legacy roles; still what most members carry). */
export const accountRoles = pgTable(
  'account_roles',
  {
    accountId: text('account_id').notNull(),
    id: text('id').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    permissions: jsonb('permissions'),
    ...syncColumns,
  },
  (t) => [primaryKey({ columns: [t.accountId, t.id] })],
);
