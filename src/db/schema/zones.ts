import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns } from './columns.js';

/** GET /zones?account.id=…: names the zone that a resource key `com.cloudflare.api.account.zone.<id>` points at. */
export const zones = pgTable(
  'zones',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    name: text('name').notNull(),
    status: text('status'),
    ...syncColumns,
  },
  (t) => [index('zones_account_idx').on(t.accountId), index('zones_name_idx').on(t.name)],
);
