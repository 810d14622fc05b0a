import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { UsageError } from '../util/usage-error.js';
import { type AccessRow, accessSource, type Incomplete, incompletePictures, select } from './rows.js';

export interface AccessOf { principal: string; at: Date | null; rows: AccessRow[]; incomplete: Incomplete[] }

/**
 * Everything one principal holds, on every path, effective or not: a member by email or member id
 * (with the user tokens of the same user, which it bounds), or a token by id or name. At an instant
 * whose picture was incomplete, no rows is an answer (with what was missing), not "no such principal".
 */
export async function accessOf(db: Db, principal: string, at?: Date): Promise<AccessOf> {
  const p = principal.trim();
  if (!p) throw new UsageError('access of: give an email, a member id, or a token id or name');
  const rows = await select<AccessRow>(db, sql`
    with ea as materialized (select * from ${accessSource(at)} x),
    hit as (
      select principal_type, principal_id, user_id from ea
      where principal_id = ${p} or lower(principal) = lower(${p})
    )
    select e.* from ea e
    where exists (select 1 from hit h where h.principal_type = e.principal_type and h.principal_id = e.principal_id)
       or (e.principal_type = 'token' and e.user_id is not null
           and exists (select 1 from hit h where h.principal_type = 'member' and h.user_id = e.user_id))
    order by e.principal_type, e.account_name, e.account_id, e.principal_id, e.path, e.group_name, e.policy_id, e.permission_group_name, e.resource_key`);
  if (!rows.length) {
    // At an instant whose picture was incomplete, "no such principal" is not known: say what was missing instead.
    const incomplete = at ? await incompletePictures(db, null, at) : [];
    if (incomplete.length) return { principal: p, at: at ?? null, rows, incomplete };
    throw new UsageError(`access of: no member or token "${p}"${at ? ` at ${at.toISOString()}` : ''} (give an email, a member id, or a token id or name)`);
  }
  const accounts = [...new Set(rows.map((r) => r.account_id))];
  return { principal: p, at: at ?? null, rows, incomplete: await incompletePictures(db, accounts, at) };
}
