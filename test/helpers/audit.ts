import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { AuditEntry, AuditKind, Simulator } from '../../src/simulator/index.js';
import type { StreamOutcome } from '../../src/sync/runner.js';

/** Shared helpers for the audit-log archive tests: canonical digests of the simulator's and the archive's sets. */

export const V2_ROUTE = 'GET /accounts/:account_id/logs/audit';
export const V1_ACCOUNT_ROUTE = 'GET /accounts/:account_id/audit_logs';
export const V1_USER_ROUTE = 'GET /user/audit_logs';

/** JSON with object keys sorted recursively: jsonb reorders keys, so both sides are compared in this form. */
export function canonical(value: unknown): string {
  const sortDeep = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortDeep);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify(sortDeep(JSON.parse(JSON.stringify(value))));
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Event time of a simulator entry, as the API shows it. */
export function entryTimeMs(e: AuditEntry): number {
  const v2 = (e as { action?: { time?: string } }).action?.time;
  return Date.parse((e as { when?: string }).when ?? v2 ?? '');
}

export interface Digest {
  count: number;
  /** sha256 over the sorted ids. */
  ids: string;
  /** sha256 over the sorted `id|event ms|sha256(canonical raw)` lines. */
  content: string;
}

function digestOf(lines: Array<[string, string]>): Digest {
  lines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const ids = createHash('sha256');
  const content = createHash('sha256');
  for (const [id, line] of lines) {
    ids.update(`${id}\n`);
    content.update(`${line}\n`);
  }
  return { count: lines.length, ids: ids.digest('hex'), content: content.digest('hex') };
}

/** Digest of what the simulator serves for one stream (optionally only entries passing `keep`). */
export function simDigest(sim: Simulator, kind: AuditKind, accountId?: string, keep: (e: AuditEntry) => boolean = () => true): Digest {
  const lines: Array<[string, string]> = [];
  for (const e of sim.world.auditStream(kind, accountId).entries()) {
    if (!keep(e)) continue;
    lines.push([e.id, `${e.id}|${entryTimeMs(e)}|${sha(canonical(e))}`]);
  }
  return digestOf(lines);
}

/** SQL filter selecting one stream's rows in audit_logs. */
export function streamFilter(kind: AuditKind, accountId?: string): { where: string; params: unknown[] } {
  if (kind === 'user-v1') return { where: `source = 'user_v1'`, params: [] };
  return { where: `source = $1 and account_id = $2`, params: [kind === 'account-v2' ? 'account_v2' : 'account_v1', accountId] };
}

/** Digest of one stream's archived rows, read in keyset batches so memory stays flat. */
export async function dbDigest(pool: pg.Pool, kind: AuditKind, accountId?: string): Promise<Digest> {
  const { where, params } = streamFilter(kind, accountId);
  const lines: Array<[string, string]> = [];
  let after = '';
  let afterTime = '-infinity';
  for (;;) {
    const n = params.length;
    const res = await pool.query<{ id: string; ms: string; raw: string; t: string }>(
      `select id, (extract(epoch from event_time) * 1000)::bigint::text as ms, raw::text as raw, event_time::text as t
         from audit_logs where ${where} and (id, event_time) > ($${n + 1}, $${n + 2}::timestamptz)
         order by id, event_time limit 20000`,
      [...params, after, afterTime],
    );
    for (const r of res.rows) lines.push([r.id, `${r.id}|${r.ms}|${sha(canonical(JSON.parse(r.raw)))}`]);
    if (res.rows.length < 20000) break;
    after = res.rows.at(-1)!.id;
    afterTime = res.rows.at(-1)!.t;
  }
  return digestOf(lines);
}

/** The simulator's ids for one stream, in the API's ascending (time, id) order. */
export function simIds(sim: Simulator, kind: AuditKind, accountId?: string, keep: (e: AuditEntry) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const e of sim.world.auditStream(kind, accountId).entries()) if (keep(e)) out.push(e.id);
  return out;
}

export async function dbIds(pool: pg.Pool, kind: AuditKind, accountId?: string): Promise<Set<string>> {
  const { where, params } = streamFilter(kind, accountId);
  const res = await pool.query<{ id: string }>(`select id from audit_logs where ${where}`, params);
  return new Set(res.rows.map((r) => r.id));
}

/** Rows in audit_logs and distinct (source, id) keys: equal when nothing is stored twice. */
export async function duplicateCheck(pool: pg.Pool): Promise<{ rows: number; distinct: number }> {
  const res = await pool.query<{ rows: number; distinct: number }>(
    `select count(*)::int as rows, count(distinct (source, id))::int as distinct from audit_logs`,
  );
  return res.rows[0]!;
}

export interface RunRow {
  id: number;
  stream: string;
  status: string;
  requests: number;
  pages: number;
  rows_fetched: number;
  rows_upserted: number;
  rows_quarantined: number;
  resumed_from_page: number | null;
  error: string | null;
}

export async function runsOf(pool: pg.Pool, stream?: string): Promise<RunRow[]> {
  const res = await pool.query<RunRow>(
    `select id::int as id, stream, status, requests, pages, rows_fetched, rows_upserted, rows_quarantined, resumed_from_page, error
       from sync_runs ${stream ? 'where stream = $1' : ''} order by id`,
    stream ? [stream] : [],
  );
  return res.rows;
}

export async function checkpointOf(pool: pg.Pool, stream: string): Promise<Record<string, any> | null> {
  const res = await pool.query<{ checkpoint: Record<string, any> | null }>(`select checkpoint from sync_state where stream = $1`, [stream]);
  return res.rows[0]?.checkpoint ?? null;
}

/** The outcome of one stream, failing loudly when it is missing. */
export function outcomeOf(outcomes: StreamOutcome[], stream: string): StreamOutcome {
  const o = outcomes.find((x) => x.stream === stream);
  if (!o) throw new Error(`no outcome for ${stream}; have ${outcomes.map((x) => x.stream).join(', ')}`);
  return o;
}

export function succeeded(o: StreamOutcome): Extract<StreamOutcome, { status: 'succeeded' }> {
  if (o.status !== 'succeeded') throw new Error(`${o.stream} ${o.status}: ${o.status === 'failed' ? o.error.message : o.reason}`);
  return o;
}

/** Requests a complete v2 walk of n entries costs: one per page, no trailing empty page. */
export const expectedRequests = (n: number, pageSize: number) => Math.max(1, Math.ceil(n / pageSize));

/**
 * The pages of a v1 keyset walk over entries with these ascending times, as [from, to) index
 * ranges: each asks from the last page's latest time (inclusive), so the entries at that instant
 * come back once more; a full page always needs another ask, a short one ends the walk.
 */
export function keysetPages(times: number[], pageSize: number, start = 0): Array<{ from: number; to: number }> {
  const pages: Array<{ from: number; to: number }> = [];
  for (let from = start; ;) {
    const to = Math.min(times.length, from + pageSize);
    pages.push({ from, to });
    if (to - from < pageSize) return pages;
    const max = times[to - 1]!;
    if (max === times[from]) throw new Error('an instant holds more entries than a page: not modelled here');
    from = times.indexOf(max, from);
  }
}

/** Requests (= pages) of a complete v1 keyset walk. */
export const keysetRequests = (times: number[], pageSize: number) => keysetPages(times, pageSize).length;

/**
 * Pages and requests of a complete v1 keyset walk, instants with more entries than a page included:
 * such an instant is paged on its own window (page 1 again, then on until a short page; past an
 * exact multiple the simulator answers 400, which costs one more request to prove it was the end).
 */
export function keysetCost(times: number[], pageSize: number): { pages: number; requests: number } {
  let pages = 0;
  let requests = 0;
  for (let from = 0; ;) {
    pages += 1;
    requests += 1;
    const to = Math.min(times.length, from + pageSize);
    if (to - from < pageSize) return { pages, requests };
    const max = times[to - 1]!;
    if (max !== times[from]) {
      from = times.indexOf(max, from);
      continue;
    }
    const count = times.filter((t) => t === max).length;
    const instantPages = Math.floor(count / pageSize) + 1;
    pages += instantPages;
    requests += instantPages + (count % pageSize === 0 ? 1 : 0);
    // The walk goes on from just after the instant, asking even when nothing follows it.
    from = times.findIndex((t) => t > max);
    if (from < 0) from = times.length;
  }
}

/** The ascending event times of one simulator stream (optionally within [since, before)). */
export function simTimes(sim: Simulator, kind: AuditKind, accountId?: string, since = -Infinity, before = Infinity): number[] {
  const out: number[] = [];
  for (const e of sim.world.auditStream(kind, accountId).entries()) {
    const t = entryTimeMs(e);
    if (t >= before) break;
    if (t >= since) out.push(t);
  }
  return out;
}
