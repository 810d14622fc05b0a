import { eq } from 'drizzle-orm';
import { ipAccessRules } from '../db/schema/index.js';
import { date, obj, rawOf, str } from './fields.js';
import { snapshotJob } from './snapshot.js';

export const ipAccessRulesStream = (credential: string) =>
  snapshotJob(`ip-access-rules:${credential}`, {
    path: '/user/firewall/access_rules/rules',
    perPage: 50,
    table: ipAccessRules,
    conflict: [ipAccessRules.id],
    idColumn: ipAccessRules.id,
    scope: (w) => eq(ipAccessRules.userId, w.owner),
    toRow: (r, w) => {
      const target = obj(r.configuration);
      return {
        id: r.id,
        userId: w.owner,
        mode: str(r.mode),
        target: str(target.target),
        value: str(target.value),
        notes: str(r.notes),
        createdOn: date(r.created_on),
        modifiedOn: date(r.modified_on),
        raw: rawOf(r),
      };
    },
  });
