import { index, jsonb, numeric, pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns, ts } from './columns.js';

/** GET /user/subscriptions (owner_type 'user') and GET /accounts/{id}/subscriptions ('account'). */
export const subscriptions = pgTable(
  'subscriptions',
  {
    id: text('id').primaryKey(),
    ownerType: text('owner_type', { enum: ['user', 'account'] }).notNull(),
    accountId: text('account_id'),
    /** Owner of a user subscription: the user id, or `credential:<name>`. */
    userId: text('user_id'),
    state: text('state'),
    price: numeric('price'),
    currency: text('currency'),
    frequency: text('frequency'),
    ratePlanId: text('rate_plan_id'),
    ratePlanName: text('rate_plan_name'),
    currentPeriodStart: ts('current_period_start'),
    currentPeriodEnd: ts('current_period_end'),
    ratePlan: jsonb('rate_plan'),
    ...syncColumns,
  },
  (t) => [index('subscriptions_owner_idx').on(t.ownerType, t.accountId)],
);
