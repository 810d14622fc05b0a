import { boolean, pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns } from './columns.js';

/** The user behind the credential (GET /user). */
export const users = pgTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull(),
  firstName: text('first_name'),
  lastName: text('last_name'),
  twoFactorEnabled: boolean('two_factor_enabled'),
  suspended: boolean('suspended'),
  ...syncColumns,
});
