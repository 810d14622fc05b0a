import { billingHistory } from '../db/schema/index.js';
import { date, num, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

export const billingHistoryStream = () =>
  snapshotJob('billing-history', {
    path: '/user/billing/history',
    perPage: 50,
    table: billingHistory,
    conflict: [billingHistory.id],
    idColumn: billingHistory.id,
    toRow: (b) => ({
      id: b.id,
      type: str(b.type),
      action: str(b.action),
      description: str(b.description),
      occurredAt: date(b.occurred_at),
      amount: num(b.amount),
      currency: str(b.currency),
      raw: rawOf(b),
    }),
  });
