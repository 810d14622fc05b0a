import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Tx } from '../client.js';
import { copyRows, transactionClient } from '../copy.js';
import type { AuditLogRow } from '../schema/audit-logs.js';
import { auditLogQuarantine } from '../schema/index.js';

// Column name → SQL type, in insert order. One JSON parameter per page, expanded by
// Postgres (jsonb_to_recordset): a 1000-entry page is one round trip and one statement.
const COLUMNS: Array<[keyof AuditLogRow, string, string]> = [
  ['source', 'source', 'text'], ['id', 'id', 'text'], ['eventTime', 'event_time', 'timestamptz'],
  ['accountId', 'account_id', 'text'], ['accountName', 'account_name', 'text'],
  ['actionType', 'action_type', 'text'], ['actionResult', 'action_result', 'text'], ['actionDescription', 'action_description', 'text'],
  ['actorId', 'actor_id', 'text'], ['actorEmail', 'actor_email', 'text'], ['actorIp', 'actor_ip', 'text'],
  ['actorType', 'actor_type', 'text'], ['actorContext', 'actor_context', 'text'],
  ['actorTokenId', 'actor_token_id', 'text'], ['actorTokenName', 'actor_token_name', 'text'],
  ['interface', 'interface', 'text'], ['resourceType', 'resource_type', 'text'], ['resourceId', 'resource_id', 'text'],
  ['resourceProduct', 'resource_product', 'text'], ['resourceScope', 'resource_scope', 'text'],
  ['zoneId', 'zone_id', 'text'], ['zoneName', 'zone_name', 'text'], ['raw', 'raw', 'jsonb'],
];

const COPY_COLUMNS = COLUMNS.map(([, c]) => c);
const columnList = COPY_COLUMNS.map((c) => `"${c}"`).join(', ');
const recordType = COLUMNS.map(([, c, t]) => `"${c}" ${t}`).join(', ');

/**
 * Insert entries; ones already archived (same source, id, event time) are left alone.
 * Returns rows inserted. Inside a transaction a page is streamed with COPY into a session-private
 * staging table shaped like audit_logs, then written by one call of flarewatch_audit_insert_from
 * (migration 0023): the page's accounts, actors, actions and zones interned set-based, each entry
 * stored with what its columns do not hold of its JSON, ON CONFLICT DO NOTHING (the overlap a
 * window starts with, a repeat inside the page, another writer's copy). COPY beats expanding one
 * JSON parameter (3×, measured), which Postgres must parse whole.
 */
export async function insertAuditEntries(tx: Tx, rows: AuditLogRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const client = transactionClient(tx);
  if (!client) return insertFromJson(tx, rows);
  return copyThroughStage(client, rows);
}

/** Stream rows into `table` (a table shaped like audit_logs) with COPY, in the table's column order. */
export async function copyAuditRows(client: pg.PoolClient, table: 'audit_logs_stage', rows: AuditLogRow[]): Promise<void> {
  const fields = (function* () {
    for (const r of rows) yield COLUMNS.map(([key]) => r[key]);
  })();
  await copyRows(client, table, COPY_COLUMNS, fields);
}

export async function copyThroughStage(client: pg.PoolClient, rows: AuditLogRow[]): Promise<number> {
  await client.query(
    'create temp table if not exists audit_logs_stage (like audit_logs) on commit delete rows',
  );
  await copyAuditRows(client, 'audit_logs_stage', rows);
  const res = await client.query<{ n: string }>(`select flarewatch_audit_insert_from('pg_temp.audit_logs_stage') as n`);
  return Number(res.rows[0]!.n);
}

async function insertFromJson(tx: Tx, rows: AuditLogRow[]): Promise<number> {
  const records = rows.map((r) => Object.fromEntries(COLUMNS.map(([key, col]) => [col, key === 'eventTime' ? (r.eventTime as Date).toISOString() : (r[key] ?? null)])));
  const res = await tx.execute(sql`
    insert into audit_logs (${sql.raw(columnList)})
    select ${sql.raw(columnList)} from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as x(${sql.raw(recordType)})
    on conflict do nothing`);
  return res.rowCount ?? 0;
}

export interface QuarantinedEntry {
  stream: string;
  position: string;
  reason: string;
  rawText: string;
}

export async function quarantineEntries(tx: Tx, entries: QuarantinedEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const rows = entries.map((e) => ({ ...e, rawHash: createHash('sha256').update(e.rawText).digest('hex') }));
  const res = await tx.insert(auditLogQuarantine).values(rows).onConflictDoNothing();
  return res.rowCount ?? 0;
}
