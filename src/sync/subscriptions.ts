import { and, eq } from 'drizzle-orm';
import { subscriptions } from '../db/schema/index.js';
import { date, num, obj, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

const row = (s: Record<string, unknown> & { id: string }, ownerType: 'user' | 'account', accountId: string | null) => {
  const plan = obj(s.rate_plan);
  return {
    id: s.id,
    ownerType,
    accountId,
    state: str(s.state),
    price: num(s.price),
    currency: str(s.currency),
    frequency: str(s.frequency),
    ratePlanId: str(plan.id),
    ratePlanName: str(plan.public_name),
    currentPeriodStart: date(s.current_period_start),
    currentPeriodEnd: date(s.current_period_end),
    ratePlan: s.rate_plan ?? null,
    raw: rawOf(s),
  };
};

export const userSubscriptionsStream = () =>
  snapshotJob('user-subscriptions', {
    path: '/user/subscriptions',
    table: subscriptions,
    conflict: [subscriptions.id],
    idColumn: subscriptions.id,
    scope: eq(subscriptions.ownerType, 'user'),
    toRow: (s) => row(s, 'user', null),
  });

export const accountSubscriptionsStream = (accountId: string) =>
  snapshotJob(`account-subscriptions:${accountId}`, {
    path: `/accounts/${accountId}/subscriptions`,
    table: subscriptions,
    conflict: [subscriptions.id],
    idColumn: subscriptions.id,
    scope: and(eq(subscriptions.ownerType, 'account'), eq(subscriptions.accountId, accountId)),
    toRow: (s) => row(s, 'account', accountId),
  });
