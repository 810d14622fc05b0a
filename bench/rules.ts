// Rule evaluation at scale: 100k tokens and 1M audit entries, inserted with generate_series
// (seconds, no simulator), then every built-in rule run twice through runChecks: the first
// run opens the findings, the second is the steady state (refresh only). Both are reported
// against a baseline measured on the same data in the same run: one full read of every row
// the rules look at.
import { Writable } from 'node:stream';
import { credentialAccesses } from '../src/credentials/access.js';
import { loadConfig } from '../src/config.js';
import type { Context } from '../src/context.js';
import type { Database } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { BUILTIN_RULES } from '../src/rules/catalog.js';
import { runChecks } from '../src/rules/engine.js';
import type { Rule } from '../src/rules/types.js';
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
  const months = await q(`select distinct date_trunc('month', now() - make_interval(secs => s))::date as m
                          from generate_series(0, ${AUDIT * 3}, 86400) s`);
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

/** The built-in rules, each timing its own evaluation: the rest of a rule's time is the findings merge. */
function timedRules(spent: { evalMs: number }): Rule[] {
  return BUILTIN_RULES.map((r) => ({
    ...r,
    async evaluate(c) {
      const t0 = performance.now();
      try {
        return await r.evaluate(c);
      } finally {
        spent.evalMs += performance.now() - t0;
      }
    },
  }));
}

const split = (spent: { evalMs: number }, totalMs: number) => `rules' queries ${fmt(spent.evalMs)} ms, findings merge and the rest ${fmt(totalMs - spent.evalMs)} ms`;

export async function rulesBench(pgs: BenchPostgres): Promise<void> {
  const { database } = await pgs.freshDatabase();
  try {
    const [, seedMs] = await timed(() => seed(database));
    const [, baseMs] = await timed(async () => {
      await database.pool.query(`select count(*), sum(length(policies::text)), count(expires_on), count(last_used_on) from api_tokens`);
      await database.pool.query(`select count(*), count(distinct actor_email), count(distinct actor_ip), count(*) filter (where action_result = 'failure') from audit_logs`);
      await database.pool.query(`select count(*), count(distinct account_id) from account_members`);
    });
    const ctx = quietContext(database);
    const firstSpent = { evalMs: 0 };
    const secondSpent = { evalMs: 0 };
    const [first, firstMs] = await timed(() => runChecks(ctx, { rules: timedRules(firstSpent), complete: true }));
    const mark = (await database.pool.query(`select txid_current()::bigint % 4294967296 as xid, pg_current_wal_lsn()::text as lsn`)).rows[0];
    const [second, secondMs] = await timed(() => runChecks(ctx, { rules: timedRules(secondSpent), complete: true }));
    // What the steady run wrote: finding rows it created or rewrote (their xmin is newer), and WAL.
    const wrote = (await database.pool.query(
      `select (select count(*)::int from findings where xmin::text::bigint > $1) as rows, pg_wal_lsn_diff(pg_current_wal_lsn(), $2::pg_lsn)::bigint as wal`,
      [mark.xid, mark.lsn],
    )).rows[0];
    const open = [...second.open.values()].reduce((s, c) => s + c.open + c.suppressed, 0);
    console.log(`\n## Rule evaluation: ${fmt(TOKENS)} tokens, ${fmt(AUDIT)} audit entries, ${fmt(ACCOUNTS * MEMBERS_PER_ACCOUNT)} members`);
    console.log(`seeded with generate_series in ${fmt(seedMs / 1000, 1)} s`);
    console.log(`baseline (one read of every input row)  ${fmt(baseMs)} ms`);
    console.log(`first check run (opens ${fmt(first.transitions.length)} findings)  ${fmt(firstMs)} ms  = ${fmt(firstMs / baseMs, 1)}× baseline  (target ≤ 3×)`);
    console.log(`steady check run (${fmt(open)} open, ${second.transitions.length} transitions)  ${fmt(secondMs)} ms  = ${fmt(secondMs / baseMs, 1)}× baseline  (target ≤ 1.5×)`);
    console.log(`  first run:  ${split(firstSpent, firstMs)}`);
    console.log(`  steady run: ${split(secondSpent, secondMs)}`);
    console.log(`steady run wrote        ${fmt(wrote.rows)} finding rows for ${second.transitions.length} transitions, ${fmt(Number(wrote.wal) / 1048576, 1)} MiB of WAL  (target: O(changes))`);
    const failed = second.outcomes.filter((o) => o.status === 'failed');
    if (failed.length) console.log(`rules that failed: ${failed.map((o) => `${o.ruleId} (${o.reason})`).join('; ')}`);
    const slowest = [...second.outcomes].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5);
    console.log(`slowest rules (steady): ${slowest.map((o) => `${o.ruleId} ${fmt(o.durationMs)} ms`).join(', ')}`);
  } finally {
    await database.close();
  }
}
