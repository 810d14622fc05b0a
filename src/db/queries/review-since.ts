import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { pgTextArray } from './text-array.js';

// Since when a difference between two reviews holds, from the history tables: when an item
// appeared, when it was deleted, when its current state began (all within the two reviews' starts).

export interface Since { appeared: Date | null; removed: Date | null; changed: Date | null }

/** `keys` are review item keys (`token:<id>`, `member:<account>:<id>`); the answer is keyed the same. */
export async function sinceOf(tx: Tx, keys: string[], from: Date, to: Date): Promise<Map<string, Since>> {
  const out = new Map<string, Since>();
  if (!keys.length) return out;
  const window = (col: string) => sql`${sql.raw(col)} > ${from.toISOString()}::timestamptz and ${sql.raw(col)} <= ${to.toISOString()}::timestamptz`;
  const res = await tx.execute<{ key: string; appeared: string | null; removed: string | null; changed: string | null }>(sql`
    with v as (
      select 'token:' || token_id as key, valid_from, valid_to, change, ended_by from api_token_versions
      union all
      select 'member:' || account_id || ':' || member_id, valid_from, valid_to, change, ended_by from account_member_versions
    )
    select key,
      min(valid_from) filter (where change in ('created', 'restored') and ${window('valid_from')}) as appeared,
      max(valid_to) filter (where ended_by = 'deletion' and ${window('valid_to')}) as removed,
      max(valid_from) filter (where ${window('valid_from')}) as changed
    from v where key = any(${pgTextArray(keys)}::text[])
    group by key`);
  const at = (s: string | null) => (s ? new Date(s) : null);
  for (const r of res.rows) out.set(r.key, { appeared: at(r.appeared), removed: at(r.removed), changed: at(r.changed) });
  return out;
}
