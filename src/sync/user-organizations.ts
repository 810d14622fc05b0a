import { eq } from 'drizzle-orm';
import { userOrganizations } from '../db/schema/index.js';
import { rawOf, str, strings } from './fields.js';
import { snapshotJob } from './snapshot.js';

export const userOrganizationsStream = (credential: string) =>
  snapshotJob(`user-organizations:${credential}`, {
    path: '/user/organizations',
    perPage: 50,
    table: userOrganizations,
    conflict: [userOrganizations.userId, userOrganizations.id],
    idColumn: userOrganizations.id,
    scope: (w) => eq(userOrganizations.userId, w.owner),
    detailPath: (id) => `/user/organizations/${id}`,
    toRow: (o, w) => ({ userId: w.owner, id: o.id, name: str(o.name), status: str(o.status), roles: strings(o.roles), permissions: strings(o.permissions), raw: rawOf(o) }),
  });
