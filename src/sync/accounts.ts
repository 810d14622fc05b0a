import { accounts } from '../db/schema/index.js';
import { bool, date, obj, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

export const accountsStream = () =>
  snapshotJob('accounts', {
    path: '/accounts',
    perPage: 50,
    table: accounts,
    conflict: [accounts.id],
    idColumn: accounts.id,
    toRow: (a) => ({
      id: a.id,
      name: str(a.name) ?? '',
      type: str(a.type),
      createdOn: date(a.created_on),
      enforceTwofactor: bool(obj(a.settings).enforce_twofactor),
      raw: rawOf(a),
    }),
  });
