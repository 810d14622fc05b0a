import { eq } from 'drizzle-orm';
import { zones } from '../db/schema/index.js';
import { obj, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

/** GET /zones?account.id=…: the names behind resource keys com.cloudflare.api.account.zone.<id>. */
export const zonesStream = (accountId: string) =>
  snapshotJob(`zones:${accountId}`, {
    path: '/zones',
    query: { 'account.id': accountId },
    perPage: 50,
    listing: 'zones',
    forbiddenCompletes: true,
    table: zones,
    conflict: [zones.id],
    idColumn: zones.id,
    scope: () => eq(zones.accountId, accountId),
    detailPath: (id) => `/zones/${id}`,
    // A zone another account holds is not this account's (the filter should never return one).
    keep: (z) => str(obj(z.account).id) === null || str(obj(z.account).id) === accountId,
    toRow: (z) => ({ id: z.id, accountId, name: str(z.name) ?? z.id, status: str(z.status), raw: rawOf(z) }),
  });
