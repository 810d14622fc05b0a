import { eq } from 'drizzle-orm';
import { billingHistory } from '../db/schema/index.js';
import { date, num, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

export const billingHistoryStream = (credential: string) =>
  snapshotJob(`billing-history:${credential}`, {
    path: '/user/billing/history',
    perPage: 50,
    table: billingHistory,
    conflict: [billingHistory.id],
    idColumn: billingHistory.id,
    scope: (w) => eq(billingHistory.userId, w.owner),
    toRow: (b, w) => ({
      id: b.id,
      userId: w.owner,
      type: str(b.type),
      action: str(b.action),
      description: str(b.description),
      occurredAt: date(b.occurred_at),
      amount: num(b.amount),
      currency: str(b.currency),
      raw: rawOf(b),
    }),
  });
