// The archive-scale bench's data: an inventory synced from the simulator (accounts, members, tokens,
// groups: what `access who-can` and `review start` read) and audit entries generated in PostgreSQL
// about that inventory, so member and token lookups find their own events among millions.
import type { Database } from '../src/db/client.js';
import { ensureAuditPartitions } from '../src/db/queries/audit-partitions.js';
import { syncAll } from '../src/sync/sync-all.js';
import { benchContext, simulatorProcess } from './lib.js';

// A larger archive is a longer history, not a denser one: entries arrive at a fixed rate (10M is
// about five years), so a query about one day or 90 days reads as many entries at every size and
// its growth shows whether an index finds them.
export const PER_DAY = Number(process.env.BENCH_ARCHIVE_PER_DAY ?? 5_500);

/** Months the archive spans at `size` entries (the partitions it needs, and the full ones). */
export function monthsSpanned(size: number): number {
  return Math.ceil(size / PER_DAY / 30);
}

/** The inventory's ids the generator draws from (members skewed: a few busy ones). */
export interface Inventory { accounts: number; members: number; tokens: number }

/** Sync a mid-sized organisation from the simulator into the database (its own audit logs tiny). */
export async function syncInventory(database: Database): Promise<Inventory> {
  const sim = await simulatorProcess({
    seed: 11, rateLimit: 'off',
    size: { accounts: 50, membersPerAccount: 20, accountTokensPerAccount: 20, userTokens: 40, accountAuditEntries: 5, accountAuditV1Entries: 1, userAuditEntries: 1, auditDays: 2 },
  });
  try {
    const ctx = benchContext(database, sim, { FLAREWATCH_RATE_LIMIT: 'off' });
    const outcomes = await syncAll(ctx, { streams: [] });
    const failed = outcomes.filter((o) => o.status === 'failed');
    if (failed.length) throw new Error(`inventory sync failed: ${failed.map((o) => o.stream).join(', ')}`);
  } finally {
    await sim.stop();
  }
  await database.pool.query(`
    create table bench_members as
      select row_number() over (order by m.account_id, m.id) - 1 as i, m.id, m.account_id, a.name as account_name, m.email, m.user_id
      from account_members m join accounts a on a.id = m.account_id where m.deleted_at is null;
    create table bench_tokens as select row_number() over (order by id) - 1 as i, id, name from api_tokens where deleted_at is null`);
  const [n] = (await database.pool.query<{ a: number; m: number; t: number }>(
    `select (select count(*)::int from accounts) as a, (select count(*)::int from bench_members) as m, (select count(*)::int from bench_tokens) as t`)).rows;
  return { accounts: n!.a, members: n!.m, tokens: n!.t };
}

// The inventory's tokens and members are the subjects of the newest 18 days' entries only (the
// first chunk); older ones are about tokens and members of their own: a larger archive is a longer
// history, not more events about each token, so a lookup about one token or member returns as
// many events at every size and at every rate (`BENCH_ARCHIVE_PER_DAY`), and its time shows how it
// finds them. (A count of entries here made the subjects' span grow with the size at a low rate.)
const SUBJECTS_FROM = PER_DAY * 18;

// One v2-shaped entry per row (its time in milliseconds, as the API gives it and the sync stores it), acted by a member of the account it happened in (members skewed:
// a few busy ones); actions weighted like a real organisation's log (sign-ins and zone changes
// most, token and member changes few); token and member events name real token and member ids.
const GENERATE = `
with g as (
  select n, date_trunc('milliseconds', now() - make_interval(secs => (n - 1 + random()) * 86400 / ${PER_DAY})) as t,
         floor($3::int * power(random(), 3))::int as mi, floor($4::int * random())::int as ti, floor($3::int * random())::int as si,
         (array['login','login','login','zone.update','zone.update','dns_record.create','dns_record.update','dns_record.delete',
                'firewall_rule.update','worker.deploy','token.create','token.update','token.roll','member.add','member.update','member.remove'])[1 + floor(random() * 16)::int] as action
    from generate_series($1::bigint, $2::bigint) n),
e as (
  select g.*, m.account_id as acc, m.account_name as acc_name, m.email as actor_email, coalesce(m.user_id, md5('u' || m.id)) as actor_id,
         '198.51.100.' || (g.mi % 250) as ip,
         case when n <= ${SUBJECTS_FROM} then tk.id else 'tok-' || n end as token_id,
         case when n <= ${SUBJECTS_FROM} then s.id else 'mem-' || n end as subject_id,
         case when n <= ${SUBJECTS_FROM} then s.email else 'member-' || n || '@example.net' end as subject_email
  from g join bench_members m on m.i = g.mi join bench_tokens tk on tk.i = g.ti join bench_members s on s.i = g.si),
r as (
  select e.*, split_part(action, '.', 1) as rtype,
         case when action like 'token%' then token_id when action like 'member%' then subject_id else md5('r' || (n % 100000)) end as rid,
         case when action like 'member%' then subject_email end as named_email
  from e)
insert into bench_stage (source, id, event_time, account_id, account_name, action_type, action_result, action_description, actor_id, actor_email,
  actor_ip, actor_type, actor_context, actor_token_id, actor_token_name, interface, resource_type, resource_id, resource_product, resource_scope, zone_id, zone_name, raw)
select case when n % 20 = 0 then 'account_v1' else 'account_v2' end, md5(n::text), t, acc, acc_name,
  action, case when n % 50 = 0 then 'failure' else 'success' end, action || ' by ' || actor_email, actor_id, actor_email,
  ip, 'user', 'dash', null, null, 'UI', rtype, rid, rtype, 'accounts', md5('zone' || (n % 400)), 'zone' || (n % 400) || '.example.com',
  jsonb_build_object(
    'id', md5(n::text),
    'account', jsonb_build_object('id', acc, 'name', acc_name),
    'action', jsonb_build_object('description', action || ' by ' || actor_email, 'result', case when n % 50 = 0 then 'failure' else 'success' end,
      'time', to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'type', action),
    'actor', jsonb_build_object('id', actor_id, 'email', actor_email, 'ip_address', ip, 'type', 'user', 'context', 'dash'),
    'raw', jsonb_build_object('cf_ray_id', substr(md5('ray' || n), 1, 16), 'method', 'PUT', 'status_code', 200,
      'uri', '/accounts/' || acc || '/' || rtype, 'user_agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36'),
    'resource', jsonb_build_object('id', rid, 'product', rtype, 'scope', 'accounts', 'type', rtype,
      'request', jsonb_build_object('name', 'item-' || (n % 997), 'enabled', (n % 2 = 0), 'email', named_email),
      'response', jsonb_build_object('success', true, 'modified_on', to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))),
    'zone', jsonb_build_object('id', md5('zone' || (n % 400)), 'name', 'zone' || (n % 400) || '.example.com'))
from r
order by t`;

/** The first of the month `back` months before this one, as YYYY-MM-DD. */
export function monthStart(back: number): string {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - back);
  return d.toISOString().slice(0, 8) + '01';
}

/** Entries numbered (from, to] added to the archive, in chunks; then vacuumed and analysed. */
export async function generate(database: Database, inv: Inventory, from: number, to: number): Promise<void> {
  await ensureAuditPartitions(database.db, Array.from({ length: monthsSpanned(to) + 2 }, (_, i) => monthStart(i)));
  const chunk = 200_000;
  // Staged like the sync's pages (each chunk in ascending time, as a backfill walks), then written
  // by the archive's own set-based insert (migration 0023). Later chunks are older: the history grows back.
  await database.pool.query('create unlogged table if not exists bench_stage (like audit_logs)');
  for (let lo = from + 1; lo <= to; lo += chunk) {
    await database.pool.query(GENERATE, [lo, Math.min(to, lo + chunk - 1), inv.members, inv.tokens]);
    await database.pool.query(`select flarewatch_audit_insert_from('bench_stage')`);
    await database.pool.query('truncate bench_stage');
  }
  await database.pool.query('vacuum analyze audit_entries, audit_accounts, audit_actors, audit_actions, audit_zones');
}
