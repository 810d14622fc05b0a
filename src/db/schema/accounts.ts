import { boolean, pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns, ts } from './columns.js';

/** GET /accounts, with settings. */
export const accounts = pgTable('accounts', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  type: text('type'),
  createdOn: ts('created_on'),
  enforceTwofactor: boolean('enforce_twofactor'),
  ...syncColumns,
});
