import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../src/db/client.js';
import { ensureAuditPartitions, monthOf } from '../src/db/queries/audit-partitions.js';
import { mapAuditEntry } from '../src/sync/audit-entry.js';

const COLUMNS = ['source', 'id', 'event_time', 'account_id', 'account_name', 'action_type', 'action_result', 'action_description', 'actor_id', 'actor_email', 'actor_ip', 'actor_type', 'actor_context', 'actor_token_id', 'actor_token_name', 'interface', 'resource_type', 'resource_id', 'resource_product', 'resource_scope', 'zone_id', 'zone_name', 'raw'] as const;
const KEYS = ['source', 'id', 'eventTime', 'accountId', 'accountName', 'actionType', 'actionResult', 'actionDescription', 'actorId', 'actorEmail', 'actorIp', 'actorType', 'actorContext', 'actorTokenId', 'actorTokenName', 'interface', 'resourceType', 'resourceId', 'resourceProduct', 'resourceScope', 'zoneId', 'zoneName', 'raw'] as const;

const field = (v: unknown): string => {
  if (v === null || v === undefined) return '\\N';
  const text = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
};

/**
 * The write baseline: COPY the same rows into the same (empty, indexed, partitioned) table
 * in one stream — the fastest way Postgres takes them, with no per-page transaction,
 * conflict check or checkpoint. Returns rows per second.
 */
export async function copyBaseline(database: Database, accountId: string, pages: unknown[][]): Promise<{ rows: number; ms: number }> {
  const rows = pages.flat().map((e) => mapAuditEntry('account_v2', accountId, e)).flatMap((m) => (m.ok ? [m.row] : []));
  await ensureAuditPartitions(database.db, new Set(rows.map((r) => monthOf(r.eventTime))));
  const client = await database.pool.connect();
  try {
    const started = performance.now();
    const lines = Readable.from((function* () {
      for (const r of rows) yield `${KEYS.map((k) => field(r[k])).join('\t')}\n`;
    })());
    await pipeline(lines, client.query(copyFrom(`copy audit_logs (${COLUMNS.join(', ')}) from stdin`)));
    return { rows: rows.length, ms: performance.now() - started };
  } finally {
    client.release();
  }
}
