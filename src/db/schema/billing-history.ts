import { numeric, pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns, ts } from './columns.js';

/** GET /user/billing/history. */
export const billingHistory = pgTable('billing_history', {
  id: text('id').primaryKey(),
  /** The user (or `credential:<name>`) the listing belongs to. */
  userId: text('user_id'),
  type: text('type'),
  action: text('action'),
  description: text('description'),
  occurredAt: ts('occurred_at'),
  amount: numeric('amount'),
  currency: text('currency'),
  ...syncColumns,
});
