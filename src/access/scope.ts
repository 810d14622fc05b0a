import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { didYouMean } from '../util/did-you-mean.js';
import { UsageError } from '../util/usage-error.js';
import { select } from './rows.js';

// Turning what a person typed (an account or zone by name or id, a capability or a permission
// group name) into ids, with a one-line error naming what was not found.

export interface Permission { term: string; capability: string | null; groups: string[] }

/** A capability (or one of its aliases) expands to its groups; anything else is one permission group's name. */
export async function resolvePermission(db: Db, term: string): Promise<Permission> {
  const t = term.trim();
  if (!t) throw new UsageError('access who-can: give a permission (a capability such as dns:edit, or a permission group name)');
  const cap = await select<{ capability: string; groups: string[] }>(db, sql`
    select a.capability, array_agg(c.permission_group_name order by c.permission_group_name) as groups
    from access_capability_aliases a join access_capabilities c on c.capability = a.capability
    where a.alias = lower(${t}) group by a.capability`);
  if (cap[0]) return { term: t, capability: cap[0].capability, groups: cap[0].groups };
  const known = await select<{ name: string }>(db, sql`
    select name from (
      select permission_group_name as name from access_capabilities
      union select name from iam_permission_groups where name is not null
      union select name from permission_group_names where name is not null
      union select unnest(role_names) from account_members where deleted_at is null
      union select alias from access_capability_aliases) n`);
  const match = known.find((k) => k.name.toLowerCase() === t.toLowerCase());
  if (!match) {
    throw new UsageError(`access who-can: unknown permission "${t}"${didYouMean(t, known.map((k) => k.name))}: give a capability (npx flarewatch access capabilities) or a permission group name`);
  }
  return { term: t, capability: null, groups: [match.name] };
}

/** An account by id or exact name. */
export async function resolveAccount(db: Db, given: string): Promise<{ id: string; name: string | null }> {
  const rows = await select<{ id: string; name: string | null }>(db, sql`select id, name from accounts where deleted_at is null order by id`);
  const hit = rows.filter((a) => a.id === given.trim() || a.name?.toLowerCase() === given.trim().toLowerCase());
  if (hit.length === 1) return hit[0]!;
  if (hit.length > 1) throw new UsageError(`--account "${given}" names ${hit.length} accounts (${hit.map((a) => a.id).join(', ')}): give its id`);
  throw new UsageError(`--account: no watched account "${given}"${didYouMean(given, rows.flatMap((a) => [a.id, a.name ?? a.id]))}`);
}

/** A zone by id or name, within an account when given (names are unique per account only). */
export async function resolveZone(db: Db, given: string, accountId?: string): Promise<{ id: string; name: string; account_id: string }> {
  const rows = await select<{ id: string; name: string; account_id: string }>(db, sql`
    select id, name, account_id from zones where deleted_at is null order by name, id`);
  const g = given.trim().toLowerCase();
  const hit = rows.filter((z) => (z.id === given.trim() || z.name.toLowerCase() === g) && (!accountId || z.account_id === accountId));
  if (hit.length === 1) return hit[0]!;
  if (hit.length > 1) throw new UsageError(`--zone "${given}" is in ${hit.length} accounts (${hit.map((z) => z.account_id).join(', ')}): add --account`);
  throw new UsageError(`--zone: no zone "${given}"${accountId ? ` in account ${accountId}` : ''}${didYouMean(given, rows.map((z) => z.name))} (zones are synced per account)`);
}

/** `--at` as a date, or a clear error. */
export function parseAt(at: string | undefined): Date | undefined {
  if (at === undefined) return undefined;
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--at "${at}" is not a date (e.g. 2026-11-01 or 2026-11-01T12:00:00Z)`);
  return d;
}
