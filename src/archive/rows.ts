import { createHash } from 'node:crypto';
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { auditLogs } from '../db/schema/audit-logs.js';

/**
 * The stored row of audit_logs as one line of JSON, built by Postgres so that export, import and
 * the table digest agree byte for byte: every column of the table (from its drizzle definition),
 * timestamps as UTC text with microseconds (no precision lost), `raw` as jsonb prints it (keys in
 * jsonb's order, numbers exactly as stored). jsonb_build_object's own key order makes the line canonical.
 */
const COLUMNS = Object.values(getTableColumns(auditLogs)).map((c) => ({ name: c.name, sqlType: c.getSQLType() }));

export const ARCHIVE_SOURCES = ['user_v1', 'account_v1', 'account_v2'] as const;
export type ArchiveSource = (typeof ARCHIVE_SOURCES)[number];

const TIME_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

const fieldOf = (c: (typeof COLUMNS)[number], alias: string) =>
  c.sqlType.startsWith('timestamp') ? `to_char(${alias}."${c.name}" at time zone 'UTC', ${TIME_TEXT})` : `${alias}."${c.name}"`;

/** SQL text: the line of the row aliased `alias` (a row of audit_logs, or of a table like it). */
export const rowLine = (alias = 'a') => `jsonb_build_object(${COLUMNS.map((c) => `'${c.name}', ${fieldOf(c, alias)}`).join(', ')})::text`;

/** SQL text: the stored columns, in table order, from a jsonb line aliased `j` (the reverse of rowLine). */
export const columnsFromLine = (j = 'j') => COLUMNS.map((c) => (c.sqlType === 'jsonb' ? `${j}->'${c.name}'` : `(${j}->>'${c.name}')::${c.sqlType}`)).join(', ');

export const columnList = COLUMNS.map((c) => `"${c.name}"`).join(', ');

/** Rows of one source in one UTC month (partition pruning: one partition is read). */
export const monthWhere = (source: ArchiveSource, month: string): SQL =>
  sql`source = ${source} and event_time >= (${month}::timestamp at time zone 'UTC') and event_time < ((${month}::timestamp + interval '1 month') at time zone 'UTC')`;

/**
 * The rows of one month (YYYY-MM-01), every column of audit_logs: read through audit_logs_between
 * (migration 0026), which decompresses each pack of a packed month once, not once per entry.
 */
export const monthRows = (month: string): SQL =>
  sql`audit_logs_between((${month}::timestamp at time zone 'UTC'), ((${month}::timestamp + interval '1 month') at time zone 'UTC'))`;

/** The order lines are written in, so a digest of the same rows is always the same. */
export const LINE_ORDER = 'event_time, id';

/** A running digest of lines (each followed by a newline): what the manifest calls the rows' digest. */
export function lineDigest(): { add(line: string): void; count: number; hex(): string } {
  const h = createHash('sha256');
  const self = {
    count: 0,
    add(line: string) {
      h.update(line);
      h.update('\n');
      self.count += 1;
    },
    hex: () => h.digest('hex'),
  };
  return self;
}

/** Read the lines of a query in batches through a cursor (a month can hold millions of rows). */
export async function* cursorLines(tx: Tx, query: SQL, batch = 5_000): AsyncGenerator<{ line: string; t: string }> {
  const name = `archive_${Math.random().toString(36).slice(2, 10)}`;
  await tx.execute(sql`declare ${sql.identifier(name)} no scroll cursor for ${query}`);
  try {
    for (;;) {
      const res = await tx.execute<{ line: string; t: string }>(sql.raw(`fetch ${batch} from "${name}"`));
      for (const r of res.rows) yield r;
      if (res.rows.length < batch) return;
    }
  } finally {
    await tx.execute(sql.raw(`close "${name}"`));
  }
}

/** The digest and count of what the archive holds for one source and month, as export would write it. */
export async function storedDigest(db: Db, source: ArchiveSource, month: string): Promise<{ rows: number; sha256: string }> {
  return db.transaction(async (tx) => {
    const d = lineDigest();
    for await (const r of cursorLines(tx, sql`select ${sql.raw(rowLine('a'))} as line, '' as t from audit_logs a where ${monthWhere(source, month)} order by ${sql.raw(LINE_ORDER)}`)) d.add(r.line);
    return { rows: d.count, sha256: d.hex() };
  });
}
