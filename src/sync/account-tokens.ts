import { and, eq, sql } from 'drizzle-orm';
import { apiTokens } from '../db/schema/index.js';
import { snapshotJob } from './snapshot.js';
import { tokenRow } from './token-row.js';
import { tokenHistory } from '../history/trackers.js';
import type { Walk } from './walk.js';

export const accountTokensStream = (accountId: string) =>
  snapshotJob(`account-tokens:${accountId}`, {
    path: `/accounts/${accountId}/tokens`,
    query: { include_expired: true },
    perPage: 50,
    listing: 'account-tokens',
    view: provisionerView(accountId),
    table: apiTokens,
    conflict: [apiTokens.id],
    idColumn: apiTokens.id,
    history: tokenHistory,
    scope: () => and(eq(apiTokens.ownerType, 'account'), eq(apiTokens.accountId, accountId))!,
    detailPath: (id) => `/accounts/${accountId}/tokens/${id}`,
    toRow: (t) => tokenRow(t, { ownerType: 'account', accountId, userId: null }),
  });

/**
 * A token provisioner sees only the tokens it created, so an account-owned token that does not find itself
 * in its own account's listing is reading a provisioner's view: complete for it, not for the account.
 * Its walk may then only delete tokens it provisioned.
 */
function provisionerView(accountId: string) {
  return (w: Walk, seen: Set<string>) => {
    const own = w.identity.kind === 'account-token' && w.identity.accountId === accountId ? w.identity.tokenId : null;
    if (!own || seen.has(own)) return undefined;
    return { viewOf: `provisioner:${own}`, scope: sql`${apiTokens.raw} ->> 'provisioner_id' = ${own}` };
  };
}
