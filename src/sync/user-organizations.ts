import { userOrganizations } from '../db/schema/index.js';
import { rawOf, str, strings } from './fields.js';
import { snapshotJob } from './snapshot.js';

export const userOrganizationsStream = () =>
  snapshotJob('user-organizations', {
    path: '/user/organizations',
    perPage: 50,
    table: userOrganizations,
    conflict: [userOrganizations.id],
    idColumn: userOrganizations.id,
    toRow: (o) => ({ id: o.id, name: str(o.name), status: str(o.status), roles: strings(o.roles), permissions: strings(o.permissions), raw: rawOf(o) }),
  });
