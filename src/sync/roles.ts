import { eq } from 'drizzle-orm';
import { accountRoles } from '../db/schema/index.js';
import { rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

export const rolesStream = (accountId: string) =>
  snapshotJob(`roles:${accountId}`, {
    path: `/accounts/${accountId}/roles`,
    perPage: 50,
    listing: 'roles',
    table: accountRoles,
    conflict: [accountRoles.accountId, accountRoles.id],
    idColumn: accountRoles.id,
    scope: () => eq(accountRoles.accountId, accountId),
    detailPath: (id) => `/accounts/${accountId}/roles/${id}`,
    toRow: (r) => ({ accountId, id: r.id, name: str(r.name) ?? '', description: str(r.description), permissions: r.permissions ?? null, raw: rawOf(r) }),
  });
