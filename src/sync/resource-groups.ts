import { eq } from 'drizzle-orm';
import { resourceGroups } from '../db/schema/index.js';
import { resourceGroupHistory } from '../history/trackers.js';
import { obj, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

const objectKeys = (scope: Record<string, unknown>) =>
  Array.isArray(scope.objects) ? scope.objects.map((o) => str(obj(o).key)).filter((k): k is string => k !== null) : null;

/** GET /accounts/{id}/iam/resource_groups: one unpaged list (no result_info), so its one answer proves what is gone. */
export const resourceGroupsStream = (accountId: string) =>
  snapshotJob(`resource-groups:${accountId}`, {
    path: `/accounts/${accountId}/iam/resource_groups`,
    listing: 'resource-groups',
    forbiddenCompletes: true,
    table: resourceGroups,
    conflict: [resourceGroups.id],
    idColumn: resourceGroups.id,
    history: resourceGroupHistory,
    scope: () => eq(resourceGroups.accountId, accountId),
    toRow: (r) => {
      const scope = obj(r.scope);
      return { id: r.id, accountId, name: str(r.name), scopeKey: str(scope.key), objectKeys: objectKeys(scope), meta: r.meta ?? null, raw: rawOf(r) };
    },
  });
