import { pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns, ts } from './columns.js';

/** GET /user/firewall/access_rules/rules: IP access rules at user level. */
export const ipAccessRules = pgTable('ip_access_rules', {
  id: text('id').primaryKey(),
  /** The user (or `credential:<name>`) the listing belongs to. */
  userId: text('user_id'),
  mode: text('mode'),
  target: text('target'),
  value: text('value'),
  notes: text('notes'),
  createdOn: ts('created_on'),
  modifiedOn: ts('modified_on'),
  ...syncColumns,
});
