import { type SQL, getTableColumns, getTableName, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Tx } from '../client.js';
import { pgTextArray } from './text-array.js';

/**
 * How one synced table keeps its history: which of its columns make a new version when they
 * change (`tracked`), which are copied along (`context`: whose it is), and where versions go.
 * Column names are property names shared by both tables (checked by `historyOf`).
 */
export interface VersionTracker {
  table: PgTable;
  key: PgColumn;
  versions: PgTable;
  versionKey: PgColumn;
  tracked: string[];
  context: string[];
  /** Rows of the table that have no history (e.g. a token known only from its verify answer). */
  untracked?: SQL;
}

/** Which walk saw a change. */
export interface SeenBy {
  runId: number | null;
  stream: string | null;
}

const ident = (name: string) => sql.raw(`"${name.replace(/"/g, '""')}"`);

function columnNames(t: VersionTracker) {
  const source = getTableColumns(t.table);
  const target = getTableColumns(t.versions);
  const name = (k: string) => {
    if (!source[k] || !target[k] || source[k]!.name !== target[k]!.name) throw new Error(`history of ${getTableName(t.table)}: column ${k} is not in both tables`);
    return source[k]!.name;
  };
  return { tracked: t.tracked.map(name), context: t.context.map(name) };
}

/**
 * Versions for these rows as they are now (just upserted), set-based in one statement: a row
 * without an open version gets one (`created`, or `restored` after a deletion), a row whose
 * tracked columns differ from its open version closes it and opens a new one (`changed`, with
 * the fields that differ). A row that did not change writes nothing at all. Returns versions opened.
 */
export async function recordVersions(tx: Tx, t: VersionTracker, ids: string[], at: Date, seen: SeenBy): Promise<number> {
  if (ids.length === 0) return 0;
  const { tracked, context } = columnNames(t);
  const table = ident(getTableName(t.table));
  const versions = ident(getTableName(t.versions));
  const key = ident(t.key.name);
  const vkey = ident(t.versionKey.name);
  const list = (prefix: string, cols: string[]) => sql.raw(cols.map((c) => `${prefix}"${c}"`).join(', '));
  const differs = sql.raw(tracked.map((c) => `case when p."${c}" is distinct from cur."${c}" then '${c}' end`).join(', '));
  const now = sql`${at.toISOString()}::timestamptz`;
  const idList = sql`${pgTextArray(ids)}::text[]`;
  const res = await tx.execute(sql`
    with cur as (
      select t.${key} as k, ${list('t.', [...tracked, ...context])}
      from ${table} t
      where t.${key} = any(${idList}) and t.deleted_at is null ${t.untracked ? sql`and not (${t.untracked})` : sql``}
    ),
    prev as (
      select distinct on (v.${vkey}) v.version_id, v.${vkey} as k, v.valid_to, ${list('v.', tracked)}
      from ${versions} v
      where v.${vkey} = any(${idList})
      order by v.${vkey}, v.valid_from desc, v.version_id desc
    ),
    todo as (
      select cur.*, p.version_id as prev_id, p.k is not null as had, p.k is not null and p.valid_to is null as was_open,
             array_remove(array[${differs}]::text[], null) as fields
      from cur left join prev p on p.k = cur.k
      where p.k is null or p.valid_to is not null or (${list('p.', tracked)}) is distinct from (${list('cur.', tracked)})
    ),
    closed as (
      update ${versions} v set valid_to = greatest(${now}, v.valid_from), ended_by = 'change'
      from todo where v.version_id = todo.prev_id and todo.was_open
      returning v.version_id
    )
    insert into ${versions} (${vkey}, valid_from, change, changed_fields, run_id, stream, ${list('', [...tracked, ...context])})
    select k, ${now}, case when not had then 'created' when was_open then 'changed' else 'restored' end,
           case when had then fields else '{}'::text[] end, ${seen.runId}, ${seen.stream}, ${list('', [...tracked, ...context])}
    from todo`);
  return res.rowCount ?? 0;
}

/**
 * Close the open version of rows marked deleted (these ids, or every deleted row when none are
 * given, after a cascade), at their deleted_at and with their deleted_reason. Returns versions closed.
 */
export async function closeDeletedVersions(tx: Tx, t: VersionTracker, ids?: string[]): Promise<number> {
  if (ids && ids.length === 0) return 0;
  const table = ident(getTableName(t.table));
  const versions = ident(getTableName(t.versions));
  const key = ident(t.key.name);
  const vkey = ident(t.versionKey.name);
  const res = await tx.execute(sql`
    update ${versions} v set valid_to = greatest(t.deleted_at, v.valid_from), ended_by = 'deletion', end_reason = t.deleted_reason
    from ${table} t
    where t.${key} = v.${vkey} and v.valid_to is null and t.deleted_at is not null
      ${ids ? sql`and t.${key} = any(${pgTextArray(ids)}::text[])` : sql``}`);
  return res.rowCount ?? 0;
}
