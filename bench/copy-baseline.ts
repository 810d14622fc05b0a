import type { Database } from '../src/db/client.js';
import { copyAuditRows } from '../src/db/queries/audit-logs.js';
import { ensureAuditPartitions, monthOf } from '../src/db/queries/audit-partitions.js';
import { mapAuditEntry } from '../src/sync/audit-entry.js';

/**
 * The write baseline: COPY the same rows into the same (empty, indexed, partitioned) table
 * in one stream — the fastest way Postgres takes them, with no per-page transaction,
 * conflict check or checkpoint. Returns the rows copied and the time it took.
 */
export async function copyBaseline(database: Database, accountId: string, pages: unknown[][]): Promise<{ rows: number; ms: number }> {
  const rows = pages.flat().map((e) => mapAuditEntry('account_v2', accountId, e)).flatMap((m) => (m.ok ? [m.row] : []));
  await ensureAuditPartitions(database.db, new Set(rows.map((r) => monthOf(r.eventTime))));
  const client = await database.pool.connect();
  try {
    const started = performance.now();
    await copyAuditRows(client, 'audit_logs', rows);
    return { rows: rows.length, ms: performance.now() - started };
  } finally {
    client.release();
  }
}
