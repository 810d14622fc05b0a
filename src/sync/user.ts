import { users } from '../db/schema/index.js';
import { bool, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

export const userStream = (credential: string) =>
  snapshotJob(`user:${credential}`, {
    path: '/user',
    object: true,
    table: users,
    conflict: [users.id],
    idColumn: users.id,
    toRow: (u) => ({
      id: u.id,
      email: str(u.email) ?? '',
      firstName: str(u.first_name),
      lastName: str(u.last_name),
      twoFactorEnabled: bool(u.two_factor_authentication_enabled),
      suspended: bool(u.suspended),
      raw: rawOf(u),
    }),
  });
