import { and, eq } from 'drizzle-orm';
import { apiTokens } from '../db/schema/index.js';
import { snapshotJob } from './snapshot.js';
import { tokenRow } from './token-row.js';
import { tokenHistory } from '../history/trackers.js';

/** The tokens of the user behind one credential; two users' lists never touch each other's rows. */
export const userTokensStream = (credential: string) =>
  snapshotJob(`user-tokens:${credential}`, {
    path: '/user/tokens',
    // Without it Cloudflare hides recently expired tokens, which are exactly what a review wants to see.
    query: { include_expired: true },
    perPage: 50,
    listing: 'user-tokens',
    table: apiTokens,
    conflict: [apiTokens.id],
    idColumn: apiTokens.id,
    history: tokenHistory,
    scope: (w) => and(eq(apiTokens.ownerType, 'user'), eq(apiTokens.userId, w.owner))!,
    detailPath: (id) => `/user/tokens/${id}`,
    toRow: (t, w) => tokenRow(t, { ownerType: 'user', accountId: null, userId: w.owner }),
  });
