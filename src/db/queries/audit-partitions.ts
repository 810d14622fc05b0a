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

export async function dropAuditPartition(tx: Tx, name: string): Promise<void> {
  const month = monthOfPartition(name);
  if (!month) throw new Error(`refusing to drop ${name}: not an audit_logs partition`);
  await tx.execute(sql.raw(`drop table if exists "${name}"`));
  // The month's packs (migration 0026) hold its entries' JSON: they go with it.
  await tx.execute(sql`delete from audit_packs where month = ${month}::date`);
}
