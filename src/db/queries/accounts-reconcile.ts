import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { pgTextArray } from './text-array.js';

/** Accounts no configured credential reaches any more: deleted, saying so. Returns their ids. */
export async function deleteUnreachedAccounts(tx: Tx, now: Date): Promise<string[]> {
  const res = await tx.execute<{ id: string }>(sql`
    update accounts a set deleted_at = ${now.toISOString()}::timestamptz, updated_at = ${now.toISOString()}::timestamptz,
           deleted_reason = 'reached by no configured credential: ' || coalesce(
             (select x.deleted_reason from account_access x where x.account_id = a.id order by x.deleted_at desc nulls last limit 1),
             'never listed')
     where a.deleted_at is null
       and not exists (select 1 from account_access x where x.account_id = a.id and x.deleted_at is null)
    returning a.id`);
  return res.rows.map((r) => r.id);
}

/** Live accounts outside the watch list (FLAREWATCH_ACCOUNTS): deleted as not watched. */
export async function deleteUnwatchedAccounts(tx: Tx, watch: string[], now: Date): Promise<string[]> {
  if (!watch.length) return [];
  const res = await tx.execute<{ id: string }>(sql`
    update accounts set deleted_at = ${now.toISOString()}::timestamptz, updated_at = ${now.toISOString()}::timestamptz,
           deleted_reason = 'not watched (FLAREWATCH_ACCOUNTS / cloudflare.accounts)'
     where deleted_at is null and not (lower(id) = any(${pgTextArray(watch.map((w) => w.toLowerCase()))}::text[]))
    returning id`);
  return res.rows.map((r) => r.id);
}

// Every table holding rows of one account, and how a row names its account.
const CHILDREN: Array<{ table: string; account: string; where?: string }> = [
  { table: 'api_tokens', account: 'account_id', where: "owner_type = 'account'" },
  { table: 'account_members', account: 'account_id' },
  { table: 'account_roles', account: 'account_id' },
  { table: 'permission_groups', account: 'source', where: "source <> 'user'" },
  { table: 'subscriptions', account: 'account_id', where: "owner_type = 'account'" },
];

/**
 * Rows of deleted accounts that are still live: marked deleted with their account's reason, so
 * rules stop seeing them and their findings resolve saying why. Returns rows marked per table.
 */
export async function cascadeDeletedAccounts(tx: Tx, now: Date): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of CHILDREN) {
    const res = await tx.execute(sql.raw(`
      update ${c.table} t set deleted_at = '${now.toISOString()}'::timestamptz, updated_at = '${now.toISOString()}'::timestamptz,
             deleted_reason = 'account ' || a.id || ' ' || coalesce(a.deleted_reason, 'deleted')
        from accounts a
       where a.id = t.${c.account} and a.deleted_at is not null and t.deleted_at is null${c.where ? ` and t.${c.where}` : ''}`));
    if (res.rowCount) out[c.table] = res.rowCount;
  }
  return out;
}
