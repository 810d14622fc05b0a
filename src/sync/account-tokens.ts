import { and, eq } from 'drizzle-orm';
import { apiTokens } from '../db/schema/index.js';
import { snapshotJob } from './snapshot.js';
import { tokenRow } from './token-row.js';
import { tokenHistory } from '../history/trackers.js';

export const accountTokensStream = (accountId: string) =>
  snapshotJob(`account-tokens:${accountId}`, {
    path: `/accounts/${accountId}/tokens`,
    query: { include_expired: true },
    perPage: 50,
    table: apiTokens,
    conflict: [apiTokens.id],
    idColumn: apiTokens.id,
    history: tokenHistory,
    scope: () => and(eq(apiTokens.ownerType, 'account'), eq(apiTokens.accountId, accountId))!,
    detailPath: (id) => `/accounts/${accountId}/tokens/${id}`,
    toRow: (t) => tokenRow(t, { ownerType: 'account', accountId, userId: null }),
  });
