import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type AccessRow, accessSource, accountModel, type Incomplete, incompletePictures, select } from './rows.js';
import { type Permission, resolveAccount, resolvePermission, resolveZone } from './scope.js';

export interface WhoCanOptions { permission: string; account?: string; zone?: string; at?: Date }
export interface WhoCan {
  permission: Permission;
  account: { id: string; name: string | null } | null;
  zone: { id: string; name: string; account_id: string } | null;
  at: Date | null;
  rows: AccessRow[];
  incomplete: Incomplete[];
}

/**
 * Who effectively holds a permission (a capability: any group implying it), optionally on one
 * account or zone: effective allow rows of the model, less those a deny of the same capability
 * covers where it is asked (a zone carve-out of an account-wide grant: docs/access-model.md rule 3).
 */
export async function whoCan(db: Db, opts: WhoCanOptions): Promise<WhoCan> {
  const permission = await resolvePermission(db, opts.permission);
  const account = opts.account ? await resolveAccount(db, opts.account) : null;
  const zone = opts.zone ? await resolveZone(db, opts.zone, account?.id) : null;
  const accountId = zone?.account_id ?? account?.id ?? null;
  const groups = sql`${sql.param(permission.groups.map((g) => g.toLowerCase()))}::text[]`;
  // Where the question is asked: the zone, else each row's own resource.
  const kind = zone ? sql`'zone'` : sql`e.resource_kind`;
  const key = zone ? sql`${zone.id}::text` : sql`coalesce(e.zone_id, e.resource_key)`;
  const rows = await select<AccessRow>(db, sql`
    with ea as materialized (
      select * from ${accountId ? accountModel(accountId, opts.at) : accessSource(opts.at)} x
      where lower(x.permission_group_name) = any(${groups}) ${accountId ? sql`and x.account_id = ${accountId}` : sql``}
    )
    select e.* from ea e
    where e.effective
      ${zone ? sql`and (e.resource_kind in ('account', 'all_zones') or e.zone_id = ${zone.id})` : sql``}
      and not exists (
        select 1 from ea d
        where d.access = 'deny' and e.path <> 'organization' and d.principal_type = e.principal_type
          and d.principal_id = e.principal_id and d.account_id = e.account_id
          and flarewatch_resource_covers(d.resource_kind, coalesce(d.zone_id, d.resource_key), ${kind}, ${key}))
    order by e.account_name, e.account_id, e.principal_type, e.principal, e.principal_id, e.path, e.group_name, e.policy_id, e.permission_group_name`);
  const accounts = accountId ? [accountId] : null;
  return { permission, account, zone, at: opts.at ?? null, rows, incomplete: await incompletePictures(db, accounts, opts.at) };
}
