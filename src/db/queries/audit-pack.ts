import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { partitionOf } from './audit-partitions.js';

/** What packing one month did: entries and packs written, and the month's bytes (partition with its indexes, and its packs) before and after. */
export interface PackedMonth {
  month: string;
  partition: string;
  entries: number;
  packs: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Whether the partition was rewritten (after packing, or by a later run when an earlier one could not lock it). */
  compacted: boolean;
  /** The partition could not be locked for its rewrite within the lock timeout (a long reader): packed, not yet compacted. */
  compactSkipped?: string;
}

/** Entries per pack: ~20 KB of JSON a value, which pglz compresses across entries (migration 0026 has the measurements). */
export const PACK_SIZE = 64;

// VACUUM FULL waits for the partition's readers and, while waiting, queues every later reader of
// it behind itself: past this it gives up and the next run compacts (the packing itself is kept).
const COMPACT_LOCK_TIMEOUT = '10s';

/** The month's bytes on disk: the partition (heap, TOAST, indexes) and its packs. */
export async function monthBytes(db: Db, month: string): Promise<number> {
  const res = await db.execute<{ b: string }>(sql`
    select coalesce(pg_total_relation_size(to_regclass(${partitionOf(month)})), 0)
      + coalesce((select sum(pg_column_size(p.*)) from audit_packs p where p.month = ${month}::date), 0) as b`);
  return Number(res.rows[0]?.b ?? 0);
}

/**
 * Whether the month has work for a pack run: entries not packed (late ones, or all of it), or packed
 * entries whose partition was never rewritten (its rewrite could not get the lock). A rewritten
 * partition's indexes are at fillfactor 100; a skipped rewrite resets them (compactPartition).
 */
export async function packWork(db: Db, month: string): Promise<{ unpacked: number; uncompacted: boolean }> {
  const part = partitionOf(month);
  const exists = await db.execute<{ r: string | null }>(sql`select to_regclass(${part})::text as r`);
  if (!exists.rows[0]?.r) return { unpacked: 0, uncompacted: false };
  const res = await db.execute<{ unpacked: string; uncompacted: boolean }>(sql.raw(`
    select (select count(*) from "${part}" where pack_id is null) as unpacked,
           exists (select 1 from "${part}" where pack_id is not null)
           and exists (select 1 from pg_index x join pg_class c on c.oid = x.indexrelid
                       where x.indrelid = '"${part}"'::regclass and not coalesce(c.reloptions @> array['fillfactor=100'], false)) as uncompacted`));
  return { unpacked: Number(res.rows[0]?.unpacked ?? 0), uncompacted: res.rows[0]?.uncompacted === true };
}

/**
 * Pack the month's unpacked entries (one transaction, migration 0026's flarewatch_audit_pack_month),
 * then rewrite the partition so the space comes back: its indexes at fillfactor 100 (a closed month
 * gets few late entries) and VACUUM FULL, which holds an ACCESS EXCLUSIVE lock on this one partition
 * for its few seconds (the current month, where the sync writes, is another partition). `uncompacted`
 * (from packWork): rewrite it even with nothing new to pack.
 */
export async function packMonth(db: Db, month: string, work: { uncompacted?: boolean } = {}): Promise<PackedMonth> {
  const partition = partitionOf(month);
  const bytesBefore = await monthBytes(db, month);
  const res = await db.execute<{ entries: string; packs: string }>(sql`select entries, packs from flarewatch_audit_pack_month(${month}::date, ${PACK_SIZE})`);
  const entries = Number(res.rows[0]?.entries ?? 0);
  const packs = Number(res.rows[0]?.packs ?? 0);
  const out: PackedMonth = { month, partition, entries, packs, bytesBefore, bytesAfter: bytesBefore, compacted: false };
  if (entries > 0 || work.uncompacted) {
    const skipped = await compactPartition(db, partition);
    if (skipped) out.compactSkipped = skipped;
    else out.compacted = true;
  }
  out.bytesAfter = await monthBytes(db, month);
  return out;
}

/**
 * Fillfactor 100 on the partition's indexes, then VACUUM FULL (which rebuilds them) on its own
 * connection; returns why it was skipped, if it was. A skipped rewrite resets the fillfactor, so the
 * next run sees the month as not yet rewritten (packWork) and rewrites it.
 */
async function compactPartition(db: Db, partition: string): Promise<string | undefined> {
  const client = await db.$client.connect();
  try {
    const idx = await client.query<{ name: string }>(`select c.relname as name from pg_index x join pg_class c on c.oid = x.indexrelid where x.indrelid = $1::regclass`, [partition]);
    const fillfactor = async (set: string) => { for (const { name } of idx.rows) await client.query(`alter index "${name}" ${set}`); };
    await fillfactor('set (fillfactor = 100)');
    await client.query(`set lock_timeout = '${COMPACT_LOCK_TIMEOUT}'`);
    try {
      await client.query(`vacuum (full, analyze) "${partition}"`);
    } catch (err) {
      if ((err as { code?: string }).code !== '55P03') throw err;
      await client.query('reset lock_timeout');
      await fillfactor('reset (fillfactor)');
      return `lock not obtained within ${COMPACT_LOCK_TIMEOUT}`;
    } finally {
      await client.query('reset lock_timeout');
    }
    return undefined;
  } finally {
    client.release();
  }
}
