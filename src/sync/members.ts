import { eq } from 'drizzle-orm';
import { accountMembers } from '../db/schema/index.js';
import { bool, obj, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';
import { memberHistory } from '../history/trackers.js';

const roleField = (roles: unknown, field: 'id' | 'name') =>
  Array.isArray(roles) ? roles.map((r) => str(obj(r)[field])).filter((x): x is string => x !== null) : [];

export const membersStream = (accountId: string) =>
  snapshotJob(`members:${accountId}`, {
    path: `/accounts/${accountId}/members`,
    perPage: 50,
    listing: 'members',
    table: accountMembers,
    conflict: [accountMembers.id],
    idColumn: accountMembers.id,
    history: memberHistory,
    scope: () => eq(accountMembers.accountId, accountId),
    detailPath: (id) => `/accounts/${accountId}/members/${id}`,
    toRow: (m) => {
      const user = obj(m.user);
      return {
        id: m.id,
        accountId,
        userId: str(user.id),
        email: str(user.email) ?? str(m.email),
        status: str(m.status),
        twoFactorEnabled: bool(user.two_factor_authentication_enabled),
        roleIds: roleField(m.roles, 'id'),
        roleNames: roleField(m.roles, 'name'),
        policies: Array.isArray(m.policies) ? m.policies : null,
        raw: rawOf(m),
      };
    },
  });
