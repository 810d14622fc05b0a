// Rule evaluation at scale: 100k tokens and 1M audit entries, inserted with generate_series
// (seconds, no simulator), then every built-in rule run twice through runChecks: the first
// run opens the findings, the second is the steady state (refresh only). Both are reported
// against a baseline measured on the same data in the same run: one full read of every row
// the rules look at.
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { credentialAccesses } from '../src/credentials/access.js';
import { loadConfig } from '../src/config.js';
import type { Context } from '../src/context.js';
import type { Database } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { BUILTIN_RULES } from '../src/rules/catalog.js';
import { resolveRuleSettings } from '../src/rules/config.js';
import { isFactsQuery } from '../src/rules/facts-query.js';
import { hitRows } from '../src/rules/sql.js';
import { type RuleOutcome, runChecks } from '../src/rules/engine.js';
import { type BenchPostgres, fmt } from './lib.js';

const TOKENS = Number(process.env.BENCH_RULE_TOKENS ?? 100_000);
const AUDIT = Number(process.env.BENCH_RULE_AUDIT ?? 1_000_000);
const ACCOUNTS = 20;
const MEMBERS_PER_ACCOUNT = 100;

export async function seed(database: Database): Promise<void> {
  const q = (text: string, params: unknown[] = []) => database.pool.query(text, params);
  await q(`insert into accounts (id, name, enforce_twofactor, raw)
           select 'acc' || a, 'Account ' || a, a % 3 = 0, '{}' from generate_series(1, ${ACCOUNTS}) a`);
  await q(`insert into account_members (id, account_id, email, status, two_factor_enabled, role_names, raw)
           select 'm' || i, 'acc' || (i % ${ACCOUNTS} + 1), 'user' || i || '@example.com',
                  case when i % 25 = 0 then 'pending' else 'accepted' end, i % 4 <> 0,
                  case i % 10 when 0 then array['Super Administrator - All Privileges'] when 1 then array[]::text[] else array['Administrator'] end, '{}'
           from generate_series(1, ${ACCOUNTS * MEMBERS_PER_ACCOUNT}) i`);
  // Four token shapes: broad write on every zone, read on one account, nested zone scope, deny-only.
  await q(`insert into api_tokens (id, owner_type, account_id, name, status, issued_on, modified_on, last_used_on, expires_on, ip_allow, policies, raw)
           select 't' || i, case when i % 2 = 0 then 'account' else 'user' end, 'acc' || (i % ${ACCOUNTS} + 1), 'token ' || i,
                  case when i % 17 = 0 then 'expired' else 'active' end,
                  now() - make_interval(days => i % 900), now() - make_interval(days => i % 400),
                  case when i % 5 = 0 then null else now() - make_interval(days => i % 200) end,
                  case i % 4 when 0 then null else now() + make_interval(days => (i % 120) - 20) end,
                  case when i % 3 = 0 then array['192.0.2.0/24'] end,
                  case i % 4
                    when 0 then jsonb_build_array(jsonb_build_object('id', 'p' || i, 'effect', 'allow',
                      'permission_groups', jsonb_build_array(jsonb_build_object('id', 'g-dns-write', 'name', 'DNS Write')),
                      'resources', jsonb_build_object('com.cloudflare.api.account.zone.*', '*')))
                    when 1 then jsonb_build_array(jsonb_build_object('id', 'p' || i, 'effect', 'allow',
                      'permission_groups', jsonb_build_array(jsonb_build_object('id', 'g-acct-read', 'name', 'Account Settings Read')),
                      'resources', jsonb_build_object('com.cloudflare.api.account.acc' || (i % ${ACCOUNTS} + 1), '*')))
                    when 2 then jsonb_build_array(jsonb_build_object('id', 'p' || i, 'effect', 'allow',
                      'permission_groups', jsonb_build_array(jsonb_build_object('id', 'g-purge', 'name', 'Cache Purge')),
                      'resources', jsonb_build_object('com.cloudflare.api.account.acc1', jsonb_build_object('com.cloudflare.api.account.zone.*', '*'))))
                    else jsonb_build_array(jsonb_build_object('id', 'p' || i, 'effect', 'deny',
                      'permission_groups', jsonb_build_array(jsonb_build_object('id', 'g-billing-write', 'name', 'Billing Write')),
                      'resources', jsonb_build_object('com.cloudflare.api.account.*', '*')))
                  end, '{}'
           from generate_series(1, ${TOKENS}) i`);
  // One entry every 3 s back from now: 1M entries span ~35 days, so two or three monthly partitions.
  // The oldest entry's month too: a step of a day can miss it when the span ends just past a month's start.
  const months = await q(`select distinct date_trunc('month', now() - make_interval(secs => s))::date as m
                          from (select generate_series(0, ${AUDIT * 3}, 86400) union all select ${AUDIT * 3}) g(s)`);
  for (const { m } of months.rows) await q(`select flarewatch_ensure_audit_partition($1::date)`, [m]);
  await q(`insert into audit_logs (source, id, event_time, account_id, action_type, action_result, actor_email, actor_ip, actor_type, resource_type, resource_id, raw)
           select 'account_v2', 'e' || i, now() - make_interval(secs => i * 3), 'acc' || (i % ${ACCOUNTS} + 1),
                  case i % 50 when 0 then 'token_create' when 1 then 'login' when 2 then 'member_add' else 'update' end,
                  case when i % 50 = 1 and i % 7 < 3 then 'failure' else 'success' end,
                  'user' || (i % 500) || '@example.com', '198.51.100.' || (i % 250), 'user',
                  case i % 50 when 0 then 'api_token' when 2 then 'member' else 'zone' end, 'r' || i,
                  jsonb_build_object('id', 'e' || i)
           from generate_series(1, ${AUDIT}) i`);
  await q('analyze');
}

function quietContext(database: Database): Context {
  const config = loadConfig({ DATABASE_URL: 'postgres://bench', LOG_LEVEL: 'warn', FLAREWATCH_RULES_DIR: '/nonexistent' });
  const log = createLogger({ level: 'warn', format: 'json', secrets: [], destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  return { db: database.db, log, config, credentials: credentialAccesses(config), now: () => new Date() };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

/**
 * Every built-in rule's own query run to completion, the hits discarded: the work a check run cannot
 * avoid to know its hits (each rule reads its tables: nine token rules read api_tokens nine times).
 */
async function rulesAlone(database: Database, ctx: Context, how: 'discarded' | 'built' = 'discarded'): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (const rule of BUILTIN_RULES) {
    const { thresholds } = resolveRuleSettings(rule, ctx.config);
    await database.db.transaction(async (tx) => {
      const rc = { db: tx, pool: ctx.db, config: ctx.config, now: ctx.now(), thresholds };
      const t0 = performance.now();
      // Built: the facts of every hit are computed too (a filter on them keeps PostgreSQL from dropping the column).
      const built = how === 'built' ? sql` where h.facts is not null` : sql``;
      // A rule with declared facts (FactsQuery): discarded is its query of their inputs, built renders them too.
      const q = rule.hitsQuery ? await rule.hitsQuery(rc) : undefined;
      if (q) await tx.execute(sql`select count(*) from (${isFactsQuery(q) ? (how === 'built' ? hitRows(q) : q.rows) : q}) h${built}`);
      else await rule.evaluate(rc);
      times.set(rule.id, performance.now() - t0);
    });
  }
  return times;
}

const sum = (times: Map<string, number>) => [...times.values()].reduce((s, v) => s + v, 0);

/** Each rule's time alone, in the first run and in the steady run, the slowest steady ones first. */
function perRule(alone: Map<string, number>, first: RuleOutcome[], steady: RuleOutcome[]): void {
  const firstMs = new Map(first.map((o) => [o.ruleId, o.durationMs]));
  console.log('per rule (ms): alone / first / steady  (steady ÷ alone)');
  for (const o of [...steady].sort((a, b) => b.durationMs - a.durationMs)) {
    const a = alone.get(o.ruleId) ?? 0;
    console.log(`  ${o.ruleId.padEnd(28)} ${fmt(a).padStart(7)} / ${fmt(firstMs.get(o.ruleId) ?? 0).padStart(7)} / ${fmt(o.durationMs).padStart(7)}  (${a ? fmt(o.durationMs / a, 2) : '-'}×)`);
  }
}

/**
 * What a first run must write at least: its findings and their events inserted by one INSERT …
 * SELECT each into empty copies of the tables (same indexes, the same foreign key).
 */
async function writeFloor(database: Database): Promise<number> {
  const q = (text: string) => database.pool.query(text);
  await q(`create table floor_findings (like findings including all)`);
  await q(`create table floor_events (like finding_events including all)`);
  await q(`alter table floor_events add foreign key (finding_id) references floor_findings (id)`);
  const t0 = performance.now();
  await q(`insert into floor_findings overriding system value select * from findings`);
  await q(`insert into floor_events overriding system value select * from finding_events`);
  const ms = performance.now() - t0;
  await q(`drop table floor_events, floor_findings`);
  return ms;
}

export async function rulesBench(pgs: BenchPostgres): Promise<void> {
  const { database } = await pgs.freshDatabase();
  try {
    const [, seedMs] = await timed(() => seed(database));
    console.log(`\n## Rule evaluation: ${fmt(TOKENS)} tokens, ${fmt(AUDIT)} audit entries, ${fmt(ACCOUNTS * MEMBERS_PER_ACCOUNT)} members`);
    console.log(`seeded with generate_series in ${fmt(seedMs / 1000, 1)} s`);
    await measureRules(database);
  } finally {
    await database.close();
  }
}

/** The figures on a seeded database whose findings are empty (a first run, then a steady one). */
export async function measureRules(database: Database): Promise<void> {
  {
    // The baseline is short, so one measurement of it swings with the machine: the median of three.
    const reads = [];
    for (let i = 0; i < 3; i++) {
      const [, ms] = await timed(async () => {
        await database.pool.query(`select count(*), sum(length(policies::text)), count(expires_on), count(last_used_on) from api_tokens`);
        await database.pool.query(`select count(*), count(distinct actor_email), count(distinct actor_ip), count(*) filter (where action_result = 'failure') from audit_logs`);
        await database.pool.query(`select count(*), count(distinct account_id) from account_members`);
      });
      reads.push(ms);
    }
    const baseMs = reads.sort((a, b) => a - b)[1]!;
    const ctx = quietContext(database);
    const alone = await rulesAlone(database, ctx);
    const aloneMs = sum(alone);
    const builtMs = sum(await rulesAlone(database, ctx, 'built'));
    const [first, firstMs] = await timed(() => runChecks(ctx, { rules: BUILTIN_RULES, complete: true }));
    const mark = (await database.pool.query(`select txid_current()::bigint % 4294967296 as xid, pg_current_wal_lsn()::text as lsn`)).rows[0];
    const [second, secondMs] = await timed(() => runChecks(ctx, { rules: BUILTIN_RULES, complete: true }));
    // What the steady run wrote: finding rows it created or rewrote (their xmin is newer), and WAL.
    const wrote = (await database.pool.query(
      `select (select count(*)::int from findings where xmin::text::bigint > $1) as rows, pg_wal_lsn_diff(pg_current_wal_lsn(), $2::pg_lsn)::bigint as wal`,
      [mark.xid, mark.lsn],
    )).rows[0];
    const floorMs = await writeFloor(database);
    const open = [...second.open.values()].reduce((s, c) => s + c.open + c.suppressed, 0);
    console.log(`baseline (one read of every input row, median of 3)  ${fmt(baseMs)} ms`);
    console.log(`rules' own queries, hits discarded      ${fmt(aloneMs)} ms  = ${fmt(aloneMs / baseMs, 1)}× baseline  (the least a check run reads)`);
    console.log(`rules' queries, every hit's facts built ${fmt(builtMs)} ms  = ${fmt(builtMs / aloneMs, 2)}× the queries alone  (what a run must compute to compare a hit with its finding)`);
    console.log(`writing the first run's rows alone      ${fmt(floorMs)} ms  = ${fmt(floorMs / baseMs, 1)}× baseline  (${fmt(first.transitions.length)} findings and their events, INSERT … SELECT into empty copies)`);
    console.log(`first check run (opens ${fmt(first.transitions.length)} findings)  ${fmt(firstMs)} ms  = ${fmt(firstMs / baseMs, 1)}× baseline  (target ≤ 3×); ${fmt(firstMs / (aloneMs + floorMs), 2)}× its queries plus its writes`);
    console.log(`steady check run (${fmt(open)} open, ${second.transitions.length} transitions)  ${fmt(secondMs)} ms  = ${fmt(secondMs / baseMs, 1)}× baseline  (target ≤ 1.5×); ${fmt(secondMs / aloneMs, 2)}× its queries alone`);
    console.log(`steady run wrote        ${fmt(wrote.rows)} finding rows for ${second.transitions.length} transitions, ${fmt(Number(wrote.wal) / 1048576, 1)} MiB of WAL  (target: O(changes))`);
    const failed = second.outcomes.filter((o) => o.status === 'failed');
    if (failed.length) console.log(`rules that failed: ${failed.map((o) => `${o.ruleId} (${o.reason})`).join('; ')}`);
    perRule(alone, first.outcomes, second.outcomes);
    console.log(`figure check-steady-vs-floor: ${(secondMs / aloneMs).toFixed(2)}`);
    console.log(`figure check-first-vs-floor: ${(firstMs / (aloneMs + floorMs)).toFixed(2)}`);
    console.log(`figure check-steady-vs-facts-built: ${(secondMs / builtMs).toFixed(2)}`);
    console.log(`figure check-first-vs-facts-built-and-writes: ${(firstMs / (builtMs + floorMs)).toFixed(2)}`);
  }
}
