// BENCH_ONLY=archive-scale: one archive grown through BENCH_ARCHIVE_SIZES entries (default
// 100k,1M; e.g. 1e6,3e6,1e7), generated in PostgreSQL about an inventory synced from the
// simulator. At each size: bytes per entry (heap, TOAST, each index) against the raw JSON, the
// latency of every README cookbook query over the archive and of the commands that read it, each
// checked with EXPLAIN for a sequential scan of audit_logs; then each one's growth from the
// smallest size to the largest.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { whoCan } from '../src/access/who-can.js';
import { historyMemberCommand, historyTokenCommand } from '../src/commands/history.js';
import { connectDatabase, type Database } from '../src/db/client.js';
import { packMonth } from '../src/db/queries/audit-pack.js';
import { dropAuditPartition, ensureAuditPartitions, forgetDroppedMonths, listAuditPartitions } from '../src/db/queries/audit-partitions.js';
import { archivedPerDay, compareDay, utcMidnight } from '../src/db/queries/audit-verifications.js';
import { loadConfig } from '../src/config.js';
import { startReview } from '../src/review/start.js';
import { generate, type Inventory, monthStart, monthsSpanned, PER_DAY, syncInventory } from './archive-scale-data.js';
import { auditSeqScans, captured, storage } from './archive-scale-probe.js';
import { fmt, ROOT, type BenchPostgres } from './lib.js';

const SIZES = (process.env.BENCH_ARCHIVE_SIZES ?? '1e5,1e6').split(',').map(Number).sort((a, b) => a - b);

/** The README's cookbook queries that read the archive (the test suite runs every one). */
function cookbookQueries(): Array<{ name: string; text: string }> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const out: Array<{ name: string; text: string }> = [];
  for (const m of readme.matchAll(/([^\n]+)\n(?:<!--[^\n]*-->\n)?\n```sql\n([\s\S]*?)```/g)) {
    const text = m[2]!.trim();
    if (!/\baudit_(logs|events)\b|access_used\(|pending_invitations/.test(text)) continue;
    const name = m[1]!.toLowerCase().replace(/\(.*?\)/g, '').replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 40);
    out.push({ name: `cookbook_${name}`, text: text.replace(/;\s*$/, '') });
  }
  return out;
}

/**
 * Median milliseconds of a few calls (three when each takes seconds, one when it takes more than 20 s).
 * A fast query's first two calls are not counted: a command's parallel statements take connections of
 * the pool that have not yet loaded the month partitions' catalog entries or planned the archive's
 * PL/pgSQL functions, a once-per-connection cost that grows with the months (75 ms at 7, 195 ms at 63
 * here, against 10 ms warm): what a long-running daemon or UI pays once, not per query.
 */
async function median(fn: () => Promise<unknown>): Promise<{ ms: number; rows: number | null }> {
  const ms: number[] = [];
  let rows: number | null = null;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const out = await fn();
    rows = Array.isArray(out) ? out.length : null;
    ms.push(performance.now() - t);
    if ((i === 0 && ms[0]! > 20_000) || (i === 2 && ms.every((m) => m > 2_000))) break;
  }
  const counted = ms.length === 7 ? ms.slice(2) : ms;
  return { ms: counted.sort((a, b) => a - b)[Math.floor(counted.length / 2)]!, rows };
}

interface Probe { name: string; run: () => Promise<unknown>; aboutOne: boolean }

/** What is timed at each size: `aboutOne` marks the queries about one person, token or day (index-driven, growth ≤ 1.5×). */
async function probes(database: Database, url: string): Promise<Probe[]> {
  const q = async <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => (await database.pool.query<T>(text, params)).rows;
  // The inventory's busiest token and member (their entries are the newest 18 days', the same at
  // every size: the archive grows back in time), so the lookups find events at any rate.
  const busiest = (type: string) => `select resource_id from audit_logs where event_time >= now() - interval '18 days' and resource_type = '${type}'
    group by 1 order by count(*) desc, 1 limit 1`;
  const [tok] = await q<{ id: string }>(`select id from bench_tokens where id = (${busiest('token')})`);
  const [mem] = await q<{ email: string; account_id: string }>(`select email, account_id from bench_members where id = (${busiest('member')})`);
  const ctx = { db: database.db, config: loadConfig({ DATABASE_URL: 'postgres://bench', LOG_LEVEL: 'warn' }), now: () => new Date() };
  const day = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
  const stream = { source: 'account_v2' as const, accountId: mem!.account_id };
  const verifyDay = () => database.db.transaction(async (tx) => {
    await archivedPerDay(tx, stream, day, new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10));
    // The ids the API would serve for that day: the archived ones and one it lacks.
    const ids = (await tx.execute<{ id: string }>(sql`select id from audit_logs where source = 'account_v2' and account_id = ${mem!.account_id} and event_time >= ${utcMidnight(day)} and event_time < ${utcMidnight(day, 1)}`)).rows.map((r) => r.id);
    await compareDay(tx, stream, day, [...ids, 'not-archived']);
  });
  const [one] = await q<{ source: string; id: string; event_time: Date }>(`select source, id, event_time from audit_logs where action_type = 'member.add' limit 1`);
  return [
    // Planning alone (EXPLAIN, nothing read) of a lookup no time bound prunes: what every query about
    // one token or member pays per month kept, however few entries it reads.
    { name: 'plan_every_partition', aboutOne: false, run: () => q(`explain select id from audit_logs where resource_id = $1`, ['none']) },
    { name: 'pk_lookup', aboutOne: true, run: () => q(`select * from audit_logs where source = $1 and id = $2 and event_time = $3`, [one!.source, one!.id, one!.event_time]) },
    { name: 'history_token', aboutOne: true, run: () => historyTokenCommand(ctx, tok!.id, true) },
    { name: 'history_member', aboutOne: true, run: () => historyMemberCommand(ctx, mem!.email, true) },
    // As the CLI runs it: a new connection each time, which first loads every month partition's
    // catalog entries (PostgreSQL builds a partitioned table's descriptor once per connection).
    { name: 'history_token_new_connection', aboutOne: false, run: async () => {
      const fresh = connectDatabase(url, 4);
      try {
        return await historyTokenCommand({ ...ctx, db: fresh.db }, tok!.id, true);
      } finally {
        await fresh.pool.end();
      }
    } },
    { name: 'audit_verify_one_day', aboutOne: true, run: verifyDay },
    { name: 'access_who_can_account', aboutOne: false, run: () => whoCan(database.db, { permission: 'dns:edit', account: mem!.account_id }) },
    { name: 'review_start_one_account', aboutOne: false, run: () => startReview(ctx, { accounts: [mem!.account_id], name: 'bench' }) },
    ...cookbookQueries().map((c) => ({ name: c.name, aboutOne: /yesterday/.test(c.name), run: () => q(c.text) })),
  ];
}

/** The storage figures of one size (`size`, or `<size>_packed` after packing), and the floor that bounds them. */
function printStorage(size: number | string, s: Awaited<ReturnType<typeof storage>>): number {
  const total = s.parts.reduce((sum, p) => sum + p.bytes, 0);
  const indexes = s.parts.filter((p) => !['heap', 'toast', 'lookup_tables', 'packs'].includes(p.name)).reduce((sum, p) => sum + p.bytes, 0);
  for (const p of s.parts) console.log(`figure archive_${size}_bytes_per_entry_${p.name}: ${fmt(p.bytes, 1)}`);
  console.log(`figure archive_${size}_bytes_per_entry: ${fmt(total, 1)}`);
  console.log(`figure archive_${size}_raw_json_bytes_per_entry: ${fmt(s.rawJson, 1)}   (a sample of entries as the view rebuilds them)`);
  console.log(`figure archive_${size}_bytes_per_entry_vs_raw_json: ${fmt(total / s.rawJson, 2)}   (goal ≤ 0.6)`);
  console.log(`figure archive_${size}_rest_column_bytes: ${fmt(s.restColumn, 1)}   (what the row keeps of the JSON, as stored: uncompressed, PostgreSQL compresses only rows over ~2 KB)`);
  console.log(`figure archive_${size}_row_fixed_bytes: ${fmt(s.rowFixed, 1)}   (the row beside that JSON: line pointer, header, references, times, source, id, resource id)`);
  console.log(`figure archive_${size}_entry_deflated_alone_bytes: ${fmt(s.deflated, 1)}   (one whole entry compressed on its own)`);
  console.log(`figure archive_${size}_rest_deflated_alone_bytes: ${fmt(s.restDeflated, 1)}   (what the row keeps of the JSON, compressed on its own)`);
  console.log(`figure archive_${size}_indexes_vs_raw_json: ${fmt(indexes / s.rawJson, 2)}`);
  console.log(`figure archive_${size}_floor_vs_raw_json: ${fmt((indexes + s.rowFixed + s.restDeflated) / s.rawJson, 2)}   (this layout with each row's kept JSON compressed alone: the indexes, the row beside its JSON, and that JSON deflated)`);
  return total / s.rawJson;
}

/** `audit pack` over every month that has ended (the bench's months are hours old, not audit.packAfterDays): the probes then read a packed archive. */
async function packEnded(database: Database): Promise<{ entries: number; ms: number }> {
  const t = performance.now();
  let entries = 0;
  const current = new Date().toISOString().slice(0, 8) + '01';
  for (const part of await listAuditPartitions(database.db)) if (part.month < current) entries += (await packMonth(database.db, part.month)).entries;
  return { entries, ms: performance.now() - t };
}

/** Drop a full month (the oldest full one at this size, then recreate it empty so a later size fills it again). */
async function dropMonth(database: Database, back: number): Promise<{ rows: number; ms: number; forgotten: { packs: number; monthIndexRows: number }; forgetMs: number }> {
  const d = monthStart(back);
  const part = `audit_logs_y${d.slice(0, 4)}m${d.slice(5, 7)}`;
  const [count] = (await database.pool.query<{ n: string }>(`select count(*) as n from ${part}`)).rows;
  const t = performance.now();
  await dropAuditPartition(database.db, part);
  const ms = performance.now() - t;
  // What retention does next, in its own statements: delete the month's packs and its month-index rows.
  const t2 = performance.now();
  const forgotten = await forgetDroppedMonths(database.db);
  const forgetMs = performance.now() - t2;
  await ensureAuditPartitions(database.db, [d]);
  return { rows: Number(count!.n), ms, forgotten, forgetMs };
}

export async function archiveScaleBench(pgs: BenchPostgres): Promise<void> {
  const { database, url } = await pgs.freshDatabase();
  try {
    const t0 = performance.now();
    const inv: Inventory = await syncInventory(database);
    console.log(`\n## Archive at scale: sizes ${SIZES.map((s) => fmt(s)).join(', ')} at ${fmt(PER_DAY)} entries a day (${monthsSpanned(SIZES.at(-1)!)} months at the largest); inventory ${inv.accounts} accounts, ${inv.members} members, ${inv.tokens} tokens (synced in ${fmt((performance.now() - t0) / 1000, 1)} s)`);
    const results = new Map<string, number[]>();
    const note = (name: string, v: number) => results.set(name, [...(results.get(name) ?? []), v]);
    let have = 0;
    for (const size of SIZES) {
      const t1 = performance.now();
      await generate(database, inv, have, size);
      have = size;
      console.log(`\n### ${fmt(size)} entries (generated in ${fmt((performance.now() - t1) / 1000, 1)} s)`);
      note('bytes_vs_raw_json', printStorage(size, await storage(database)));
      const packed = await packEnded(database);
      console.log(`figure archive_${size}_pack_ms: ${fmt(packed.ms, 0)}   (${fmt(packed.entries)} entries of the months that ended packed, each partition rewritten; the current month stays as written)`);
      note('packed_bytes_vs_raw_json', printStorage(`${size}_packed`, await storage(database)));
      for (const p of await probes(database, url)) {
        const scans = await auditSeqScans(database, await captured(p.run));
        const { ms, rows } = await median(p.run);
        note(p.name, ms);
        console.log(`figure archive_${size}_${p.name}_ms: ${fmt(ms, 1)}${rows === null ? '' : ` (${fmt(rows)} rows)`}   seq scan of a filled audit_logs partition: ${scans.length ? `yes (${scans.length}: ${scans.slice(0, 3).join(', ')}${scans.length > 3 ? ', …' : ''})` : 'no'}`);
      }
      const drop = await dropMonth(database, Math.max(1, monthsSpanned(size) - 2));
      note('drop_month', drop.ms);
      console.log(`figure archive_${size}_drop_month_ms: ${fmt(drop.ms, 1)}   (${fmt(drop.rows)} rows: a DROP TABLE of the partition)`);
      console.log(`figure archive_${size}_forget_month_ms: ${fmt(drop.forgetMs, 1)}   (then, in their own statements: its ${fmt(drop.forgotten.packs)} packs and ${fmt(drop.forgotten.monthIndexRows)} month-index rows deleted)`);
    }
    if (SIZES.length < 2) return;
    const [lo, hi] = [SIZES[0]!, SIZES.at(-1)!];
    console.log(`\n### Growth from ${fmt(lo)} to ${fmt(hi)} entries (${fmt(hi / lo, 1)}× the entries)`);
    const aboutOne = new Set((await probes(database, url)).filter((p) => p.aboutOne).map((p) => p.name));
    for (const [name, v] of results) {
      const goal = aboutOne.has(name) || name === 'drop_month' ? '   (goal ≤ 1.5)' : '';
      console.log(`figure archive_growth_${name}: ${fmt(v.at(-1)! / v[0]!, 2)}${goal}`);
    }
  } finally {
    await database.close();
  }
}
