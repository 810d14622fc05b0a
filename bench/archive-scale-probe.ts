// What the archive-scale bench looks at beside time: the statements a command sends (captured at
// the pg client), whether any plans a sequential scan of an audit_logs partition, and where the
// archive's bytes go (heap, TOAST, each index) per entry.
import { deflateRawSync } from 'node:zlib';
import type { Database } from '../src/db/client.js';
import { plannedScans, type Statement } from '../test/helpers/captured-statements.js';

export { captured } from '../test/helpers/captured-statements.js';

/** The filled audit_logs partitions any of these statements would read by a sequential scan (EXPLAIN, not run). */
export async function auditSeqScans(database: Database, statements: Statement[]): Promise<string[]> {
  const out = new Set((await plannedScans(database.pool, statements))
    .filter((s) => /Seq Scan/.test(s.nodeType) && s.relation.startsWith('audit_logs')).map((s) => s.relation));
  if (!out.size) return [];
  // A near-empty partition (the oldest, partly filled month; months not yet begun) is read whole by
  // design: only a scan of a filled one (a tenth of the average month or more) reads the archive.
  const filled = await database.pool.query<{ name: string }>(`
    with p as (select c.relname as name, c.reltuples from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'audit_entries'::regclass)
    select name from p where name = any($1::text[]) and reltuples >= 0.1 * (select avg(greatest(reltuples, 0)) from p) order by name`, [[...out]]);
  return filled.rows.map((r) => r.name);
}

export interface Storage {
  entries: number; rawJson: number; parts: Array<{ name: string; bytes: number }>; deflated: number; restColumn: number; tuple: number;
  restDeflated: number; rowFixed: number;
}

/** Bytes per entry of each part of the archive, and what one entry weighs as JSON, stored, and compressed alone. */
export async function storage(database: Database): Promise<Storage> {
  const q = async <T extends Record<string, unknown>>(text: string) => (await database.pool.query<T>(text)).rows;
  const [n] = await q<{ n: string; rest: string; tup: string }>(`
    select count(*) as n, avg(coalesce(pg_column_size(rest), 0)) as rest, avg(pg_column_size(t.*)) as tup from audit_entries t`);
  const parts = await q<{ name: string; bytes: string }>(`
    with p as (select inhrelid as oid from pg_inherits where inhparent = 'audit_entries'::regclass)
    select 'heap' as name, sum(pg_relation_size(p.oid, 'main') + pg_relation_size(p.oid, 'fsm') + pg_relation_size(p.oid, 'vm')) as bytes from p
    union all
    select 'toast', sum(coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)) from p join pg_class c on c.oid = p.oid
    union all
    select parent.relname, sum(pg_relation_size(i.inhrelid)) from pg_inherits i join pg_class parent on parent.oid = i.inhparent
    where parent.oid in (select indexrelid from pg_index where indrelid = 'audit_entries'::regclass) group by parent.relname
    union all
    select 'packs', pg_total_relation_size('audit_packs')
    union all
    select 'month_index', pg_total_relation_size('audit_resource_months') + pg_total_relation_size('audit_subject_email_months')
    union all
    select 'lookup_tables', sum(pg_total_relation_size(t::regclass)) from unnest(array['audit_accounts', 'audit_actors', 'audit_actions', 'audit_zones']) t`);
  // A sample of entries: the raw JSON as the view rebuilds it (what the API served), each compressed
  // on its own (deflate: better than PostgreSQL's pglz), and what the row keeps of it compressed alone.
  const sample = await q<{ raw: string; rest: string }>(`
    select l.raw::text as raw, coalesce(s.rest::text, '') as rest from (select source, id, event_time, rest from audit_entries tablesample system (1) limit 2000) s
    join audit_logs l on l.source = s.source and l.id = s.id and l.event_time = s.event_time`);
  const avg = (f: (r: { raw: string; rest: string }) => number) => sample.reduce((sum, r) => sum + f(r), 0) / Math.max(1, sample.length);
  const entries = Number(n!.n);
  return {
    entries, rawJson: avg((r) => Buffer.byteLength(r.raw)), restColumn: Number(n!.rest), tuple: Number(n!.tup),
    deflated: avg((r) => deflateRawSync(r.raw).length), restDeflated: avg((r) => deflateRawSync(r.rest).length),
    // A heap row's cost beside its JSON: line pointer (4), tuple header with null bitmap (24), the fixed columns and short texts.
    rowFixed: 4 + Number(n!.tup) - Number(n!.rest),
    parts: parts.map((p) => ({ name: p.name, bytes: Number(p.bytes) / entries })),
  };
}
