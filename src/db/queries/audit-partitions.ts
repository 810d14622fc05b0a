import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';

/** First day (UTC) of the month holding `d`, as YYYY-MM-01. */
export const monthOf = (d: Date) => `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-01`;

const PARTITION = /^audit_logs_y(\d{4})m(\d{2})$/;

/** The partition holding a month (YYYY-MM-01): audit_logs_yYYYYmMM (flarewatch_ensure_audit_partition's naming). */
export const partitionOf = (month: string) => `audit_logs_y${month.slice(0, 4)}m${month.slice(5, 7)}`;

/** The month (YYYY-MM-01) a partition holds, or undefined for a name that is not an audit partition. */
function monthOfPartition(name: string): string | undefined {
  const m = PARTITION.exec(name);
  return m ? `${m[1]}-${m[2]}-01` : undefined;
}

/** Create the monthly partitions for these months if missing (in their own short transaction). */
export async function ensureAuditPartitions(tx: Tx, months: Iterable<string>): Promise<void> {
  for (const month of months) await tx.execute(sql`select flarewatch_ensure_audit_partition(${month}::date)`);
}

export interface AuditPartition {
  name: string;
  month: string;
}

export async function listAuditPartitions(tx: Tx): Promise<AuditPartition[]> {
  const res = await tx.execute<{ name: string }>(sql`
    select c.relname as name from pg_inherits i
    join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
    where p.relname = 'audit_entries' order by c.relname`);
  return res.rows.flatMap(({ name }) => {
    const month = monthOfPartition(name);
    return month ? [{ name, month }] : [];
  });
}

/** Drop one month's partition: only the table (forgetDroppedMonths then deletes what it leaves). */
export async function dropAuditPartition(tx: Tx, name: string): Promise<void> {
  if (!monthOfPartition(name)) throw new Error(`refusing to drop ${name}: not an audit_logs partition`);
  await tx.execute(sql.raw(`drop table if exists "${name}"`));
}

/**
 * Delete what dropped months left once their partitions are gone: their packs (migration 0026) and
 * their month-index rows (0029). Run after the drops, not inside them, so each drop stays O(1); also
 * before packing, for a drop that was interrupted before it ran.
 */
export async function forgetDroppedMonths(tx: Tx): Promise<{ packs: number; monthIndexRows: number }> {
  const res = await tx.execute<{ packs: string; month_rows: string }>(sql`select packs, month_rows from flarewatch_audit_forget_months()`);
  return { packs: Number(res.rows[0]?.packs ?? 0), monthIndexRows: Number(res.rows[0]?.month_rows ?? 0) };
}
