// BENCH_ONLY=archive-scale: an archive of BENCH_SCALE audit entries (default 200k; 1M, 3M, 10M)
// generated in PostgreSQL with realistic shapes and skew, then every figure as a ratio against a
// baseline measured on the same archive in the same run.
import { sql } from 'drizzle-orm';
import type { Database } from '../src/db/client.js';
import { ensureAuditPartitions } from '../src/db/queries/audit-partitions.js';
import { resourceEvents } from '../src/db/queries/history.js';
import { fmt, type BenchPostgres } from './lib.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 200_000);
const MONTHS = 24;
const ACCOUNTS = 50;
const ACTORS = 500;

// One v2-shaped entry per row: accounts and actors skewed (a few busy ones), actions weighted like a
// real organisation's log (sign-ins and zone changes most, token and member changes few).
const GENERATE = `
with g as (
  select n, now() - (random() * ${MONTHS} * 30 || ' days')::interval as t,
         floor(${ACCOUNTS} * power(random(), 2))::int as acc, floor(${ACTORS} * power(random(), 3))::int as actor,
         (array['login','login','login','zone.update','zone.update','dns_record.create','dns_record.update','dns_record.delete',
                'firewall_rule.update','worker.deploy','token.create','token.update','token.roll','member.add','member.update','member.remove'])[1 + floor(random() * 16)::int] as action
    from generate_series($1::bigint, $2::bigint) n)
insert into audit_logs (source, id, event_time, account_id, account_name, action_type, action_result, action_description, actor_id, actor_email,
  actor_ip, actor_type, actor_context, actor_token_id, actor_token_name, interface, resource_type, resource_id, resource_product, resource_scope, zone_id, zone_name, raw)
select case when n % 20 = 0 then 'account_v1' else 'account_v2' end, md5(n::text), t, 'acc' || lpad(acc::text, 29, '0'), 'Account ' || acc,
  action, 'success', action || ' by ' || 'user' || actor, md5('actor' || actor), 'user' || actor || '@example.com',
  '198.51.100.' || (actor % 250), 'user', 'dash', null, null, 'UI',
  split_part(action, '.', 1), case when action like 'token%' then 'tok' || (n % 2000) when action like 'member%' then 'mem' || (n % 3000) else md5('r' || (n % 100000)) end,
  split_part(action, '.', 1), 'accounts', md5('zone' || (n % 400)), 'zone' || (n % 400) || '.example.com',
  jsonb_build_object(
    'id', md5(n::text),
    'account', jsonb_build_object('id', 'acc' || lpad(acc::text, 29, '0'), 'name', 'Account ' || acc),
    'action', jsonb_build_object('description', action || ' by user' || actor, 'result', 'success', 'time', to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'type', action),
    'actor', jsonb_build_object('id', md5('actor' || actor), 'email', 'user' || actor || '@example.com', 'ip_address', '198.51.100.' || (actor % 250), 'type', 'user', 'context', 'dash'),
    'raw', jsonb_build_object('cf_ray_id', substr(md5('ray' || n), 1, 16), 'method', 'PUT', 'status_code', 200,
      'uri', '/accounts/acc' || acc || '/' || split_part(action, '.', 1), 'user_agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36'),
    'resource', jsonb_build_object('id', md5('r' || (n % 100000)), 'product', split_part(action, '.', 1), 'scope', 'accounts', 'type', split_part(action, '.', 1),
      'request', jsonb_build_object('name', 'item-' || (n % 997), 'enabled', (n % 2 = 0), 'email', case when action like 'member%' then 'member' || (n % 3000) || '@example.com' end),
      'response', jsonb_build_object('success', true, 'modified_on', to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
    'zone', jsonb_build_object('id', md5('zone' || (n % 400)), 'name', 'zone' || (n % 400) || '.example.com'))
from g`;

/** Median milliseconds of `runs` calls of `fn`. */
async function median(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function generate(database: Database): Promise<void> {
  const months = Array.from({ length: MONTHS + 2 }, (_, i) => {
    const d = new Date();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() - i);
    return d.toISOString().slice(0, 8) + '01';
  });
  await ensureAuditPartitions(database.db, months);
  const chunk = 200_000;
  for (let from = 1; from <= SCALE; from += chunk) await database.pool.query(GENERATE, [from, Math.min(SCALE, from + chunk - 1)]);
  await database.pool.query('vacuum analyze audit_logs');
}

export async function archiveScaleBench(pgs: BenchPostgres): Promise<void> {
  const { database } = await pgs.freshDatabase();
  try {
    const t0 = performance.now();
    await generate(database);
    console.log(`\n## Archive at scale: ${fmt(SCALE)} entries over ${MONTHS} months, generated in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const q = async <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => (await database.pool.query<T>(text, params)).rows;
    const [size] = await q<{ bytes: string; n: string; raw: string }>(`
      select (select sum(pg_total_relation_size(i.inhrelid)) from pg_inherits i where i.inhparent = 'audit_logs'::regclass) as bytes,
             (select count(*) from audit_logs) as n, (select avg(octet_length(raw::text)) from audit_logs) as raw`);
    const perEntry = Number(size!.bytes) / Number(size!.n);
    console.log(`figure archive_bytes_per_entry: ${fmt(perEntry)}`);
    console.log(`figure archive_raw_json_bytes_per_entry: ${fmt(Number(size!.raw))}`);
    console.log(`figure archive_bytes_per_entry_vs_raw_json: ${fmt(perEntry / Number(size!.raw), 2)}   (goal ≤ 0.6)`);

    // Baseline: a primary-key lookup of one entry.
    const [one] = await q<{ source: string; id: string; event_time: Date; account_id: string }>(`select source, id, event_time, account_id from audit_logs where action_type = 'member.add' limit 1`);
    const pk = await median(21, () => q(`select * from audit_logs where source = $1 and id = $2 and event_time = $3`, [one!.source, one!.id, one!.event_time]));
    const token = await median(11, () => resourceEvents(database.db, { ids: ['tok42'], typeLike: 'token' }));
    const member = await median(11, () => resourceEvents(database.db, { ids: ['mem42'], typeLike: 'member', emails: [{ accountId: one!.account_id, email: 'member42@example.com' }] }));
    const day = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
    const oneDay = await median(11, () => q(`select * from audit_logs where account_id = $1 and event_time >= $2::date and event_time < $2::date + 1 order by event_time`, [one!.account_id, day]));
    console.log(`figure archive_pk_lookup_ms: ${fmt(pk, 2)}`);
    console.log(`figure archive_history_token_vs_pk: ${fmt(token / pk, 1)}`);
    console.log(`figure archive_history_member_vs_pk: ${fmt(member / pk, 1)}`);
    console.log(`figure archive_one_account_day_vs_pk: ${fmt(oneDay / pk, 1)}`);

    // Retention: dropping the oldest month (a partition) against counting that month's rows.
    // A full month (a year back), not the partly filled oldest one.
    const d = new Date();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() - 12);
    const oldest = `audit_logs_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    const t1 = performance.now();
    const [count] = await q<{ n: string }>(`select count(*) as n from ${oldest}`);
    const countMs = performance.now() - t1;
    const t2 = performance.now();
    await database.db.execute(sql.raw(`drop table ${oldest}`));
    const dropMs = performance.now() - t2;
    console.log(`figure archive_drop_month_rows: ${fmt(Number(count!.n))}`);
    console.log(`figure archive_drop_month_ms: ${fmt(dropMs, 1)}`);
    console.log(`figure archive_drop_month_vs_count_month: ${fmt(dropMs / countMs, 3)}   (O(1): a partition, not a delete)`);
  } finally {
    await database.close();
  }
}
