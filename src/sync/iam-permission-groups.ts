import { eq } from 'drizzle-orm';
import { iamPermissionGroups } from '../db/schema/index.js';
import { rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

/** GET /accounts/{id}/iam/permission_groups: the names member and group policies refer to by id. */
export const iamPermissionGroupsStream = (accountId: string) =>
  snapshotJob(`iam-permission-groups:${accountId}`, {
    path: `/accounts/${accountId}/iam/permission_groups`,
    perPage: 50,
    listing: 'iam-permission-groups',
    forbiddenCompletes: true,
    table: iamPermissionGroups,
    conflict: [iamPermissionGroups.accountId, iamPermissionGroups.id],
    idColumn: iamPermissionGroups.id,
    scope: () => eq(iamPermissionGroups.accountId, accountId),
    detailPath: (id) => `/accounts/${accountId}/iam/permission_groups/${id}`,
    toRow: (g) => ({ accountId, id: g.id, name: str(g.name), meta: g.meta ?? null, raw: rawOf(g) }),
  });
