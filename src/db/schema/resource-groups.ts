import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { resourceGroupColumns } from './access-columns.js';
import { syncColumns } from './columns.js';

/** GET /accounts/{id}/iam/resource_groups (one unpaged list). */
export const resourceGroups = pgTable(
  'resource_groups',
  {
    id: text('id').primaryKey(),
    ...resourceGroupColumns,
    meta: jsonb('meta'),
    ...syncColumns,
  },
  (t) => [index('resource_groups_account_idx').on(t.accountId)],
);
