import { and, eq } from 'drizzle-orm';
import { subscriptions } from '../db/schema/index.js';
import { date, num, obj, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

const row = (s: Record<string, unknown> & { id: string }, ownerType: 'user' | 'account', accountId: string | null, userId: string | null) => {
  const plan = obj(s.rate_plan);
  return {
    id: s.id,
    ownerType,
    accountId,
    userId,
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

export const userSubscriptionsStream = (credential: string) =>
  snapshotJob(`user-subscriptions:${credential}`, {
    path: '/user/subscriptions',
    table: subscriptions,
    conflict: [subscriptions.id],
    idColumn: subscriptions.id,
    scope: (w) => and(eq(subscriptions.ownerType, 'user'), eq(subscriptions.userId, w.owner))!,
    toRow: (s, w) => row(s, 'user', null, w.owner),
  });

export const accountSubscriptionsStream = (accountId: string) =>
  snapshotJob(`account-subscriptions:${accountId}`, {
    path: `/accounts/${accountId}/subscriptions`,
    table: subscriptions,
    conflict: [subscriptions.id],
    idColumn: subscriptions.id,
    scope: () => and(eq(subscriptions.ownerType, 'account'), eq(subscriptions.accountId, accountId))!,
    toRow: (s) => row(s, 'account', accountId, null),
  });
