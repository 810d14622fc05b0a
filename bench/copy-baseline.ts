import type { Database } from '../src/db/client.js';
import { copyThroughStage } from '../src/db/queries/audit-logs.js';
import { ensureAuditPartitions, monthOf } from '../src/db/queries/audit-partitions.js';
import { mapAuditEntry } from '../src/sync/audit-entry.js';

/**
 * The write baseline: COPY the same rows into the same (empty, indexed, partitioned) table
 * in one stream — the fastest way Postgres takes them, with no per-page transaction or
 * checkpoint. Since migration 0023 audit_logs is a view and every page is written the staged
 * way (COPY into a staging table, then one set-based insert that interns the page's keys), so
 * `direct` and `staged` are the same write: one COPY and one insert of every row, in one
 * transaction. Returns the rows written and the time it took.
 */
export async function copyBaseline(database: Database, accountId: string, pages: unknown[][], how: 'direct' | 'staged' = 'direct'): Promise<{ rows: number; ms: number }> {
  const rows = pages.flat().map((e) => mapAuditEntry('account_v2', accountId, e)).flatMap((m) => (m.ok ? [m.row] : []));
  await ensureAuditPartitions(database.db, new Set(rows.map((r) => monthOf(r.eventTime))));
  const client = await database.pool.connect();
  try {
    // Each measurement starts from a clean checkpoint, so none pays for the WAL of the one before.
    await client.query('checkpoint');
    const started = performance.now();
    void how;
    await client.query('begin');
    await copyThroughStage(client, rows);
    await client.query('commit');
    return { rows: rows.length, ms: performance.now() - started };
  } finally {
    client.release();
  }
}
