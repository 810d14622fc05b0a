import { eq } from 'drizzle-orm';
import { apiTokens } from '../db/schema/index.js';
import { snapshotJob } from './snapshot.js';
import { tokenRow } from './token-row.js';

export const userTokensStream = () =>
  snapshotJob('user-tokens', {
    path: '/user/tokens',
    // Without it Cloudflare hides recently expired tokens, which are exactly what a review wants to see.
    query: { include_expired: true },
    perPage: 50,
    table: apiTokens,
    conflict: [apiTokens.id],
    idColumn: apiTokens.id,
    scope: eq(apiTokens.ownerType, 'user'),
    toRow: (t) => tokenRow(t, { ownerType: 'user', accountId: null }),
  });
