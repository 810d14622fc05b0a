import { type SQL, and, getTableColumns, inArray, isNull, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Tx } from '../client.js';

export type SyncedTable = PgTable & {
  raw: PgColumn;
  lastSeenAt: PgColumn;
  updatedAt: PgColumn;
  deletedAt: PgColumn;
  deletedReason: PgColumn;
  firstSeenAt: PgColumn;
};

const NOT_COPIED = new Set(['firstSeenAt', 'lastSeenAt', 'updatedAt', 'deletedAt', 'deletedReason']);

/**
 * Whether a row seen again must be rewritten although nothing in it changed: it was marked
 * deleted, or its last_seen_at is older than `lastSeenResolutionMs` (rewriting every row on
 * every walk would only bloat the table and the WAL).
 */
export function seenAgainNeedsWrite(row: { deletedAt: PgColumn; lastSeenAt: PgColumn }, now: Date, lastSeenResolutionMs: number): SQL {
  const staleBefore = new Date(now.getTime() - lastSeenResolutionMs).toISOString();
  return sql`(${row.deletedAt} is not null or ${row.lastSeenAt} < ${staleBefore}::timestamptz)`;
}

/**
 * Insert or refresh snapshot rows. A row whose content is unchanged is not rewritten
 * unless it was marked deleted or its last_seen_at is older than `lastSeenResolutionMs`
 * (rewriting every row on every sync would only bloat the table and the WAL).
 * Returns the number of rows written.
 */
export async function upsertSnapshotRows(
  tx: Tx,
  table: SyncedTable,
  target: PgColumn[],
  rows: Record<string, unknown>[],
  now: Date,
  lastSeenResolutionMs: number,
): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = getTableColumns(table);
  const set: Record<string, SQL> = {};
  for (const [key, col] of Object.entries(columns)) {
    if (NOT_COPIED.has(key) || target.includes(col)) continue;
    set[key] = sql.raw(`excluded."${col.name}"`);
  }
  const changed = sql`${table.raw} is distinct from excluded.raw`;
  set.updatedAt = sql`case when ${changed} then ${now.toISOString()}::timestamptz else ${table.updatedAt} end`;
  set.lastSeenAt = sql`${now.toISOString()}::timestamptz`;
  set.deletedAt = sql`null`;
  set.deletedReason = sql`null`;
  const stamped = rows.map((r) => ({ ...r, firstSeenAt: now, lastSeenAt: now, updatedAt: now }));
  const result = await tx
    .insert(table)
    .values(stamped as never)
    .onConflictDoUpdate({
      target,
      set,
      setWhere: sql`${changed} or ${seenAgainNeedsWrite(table, now, lastSeenResolutionMs)}`,
    });
  return result.rowCount ?? 0;
}

/** Ids of the live rows of one stream's scope. */
export async function liveIds(tx: Tx, table: SyncedTable, idColumn: PgColumn, scope: SQL | undefined): Promise<string[]> {
  const rows = await tx.select({ id: idColumn }).from(table).where(and(isNull(table.deletedAt), scope));
  return rows.map((r) => String(r.id));
}

/** Mark these rows of one stream's scope deleted, saying why. */
export async function markDeleted(
  tx: Tx, table: SyncedTable, idColumn: PgColumn, scope: SQL | undefined, ids: string[], now: Date, reason: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tx
    .update(table)
    .set({ deletedAt: now, updatedAt: now, deletedReason: reason } as never)
    .where(and(isNull(table.deletedAt), scope, inArray(idColumn, ids)));
  return result.rowCount ?? 0;
}
