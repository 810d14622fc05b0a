import { eq } from 'drizzle-orm';
import { permissionGroups } from '../db/schema/index.js';
import { rawOf, str, strings } from './fields.js';
import { snapshotJob } from './snapshot.js';

const job = (stream: string, path: string, source: string) =>
  snapshotJob(stream, {
    path,
    table: permissionGroups,
    conflict: [permissionGroups.source, permissionGroups.id],
    idColumn: permissionGroups.id,
    scope: () => eq(permissionGroups.source, source),
    toRow: (g) => ({ source, id: g.id, name: str(g.name), scopes: strings(g.scopes), category: str(g.category), raw: rawOf(g) }),
  });

export const permissionGroupsStream = () => job('permission-groups', '/user/tokens/permission_groups', 'user');
export const accountPermissionGroupsStream = (accountId: string) =>
  job(`account-permission-groups:${accountId}`, `/accounts/${accountId}/tokens/permission_groups`, accountId);
