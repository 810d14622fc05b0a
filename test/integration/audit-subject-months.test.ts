import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyMemberCommand, historyTokenCommand } from '../../src/commands/history.js';
import { ensureAuditPartitions } from '../../src/db/queries/audit-partitions.js';
import { packMonth } from '../../src/db/queries/audit-pack.js';
import { resourceEvents } from '../../src/db/queries/history.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { packClosedMonths } from '../../src/sync/audit-pack.js';
import { applyAuditRetention } from '../../src/sync/audit-retention.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { captured, plannedScans } from '../helpers/captured-statements.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';
import { oldDefinition } from '../helpers/old-definition.js';

// Migration 0029: which months hold entries about a resource id, or naming an e-mail in an
// account, so `history` reads only those month partitions instead of
// probing every month kept. The index may list too much, never too little; what the readers return
// must be what a read of every month returns.

const MONTHS = 30;
let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let account: string;
let tokenId: string;
let member: { id: string; email: string };
let pendingByEmail: { id: string; email: string };

const rows = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows as T[];
const monthsAgo = (n: number, day = 10) => {
  const d = new Date();
  d.setUTCDate(day);
  d.setUTCHours(12, 0, 0, 0);
  d.setUTCMonth(d.getUTCMonth() - n);
  return d.toISOString();
};

/** A v2 (or v1) entry written through audit_logs' row trigger. */
async function entry(id: string, time: string, f: { resourceId: string; type: string; action?: string; subjectEmail?: string; source?: string; account?: string }) {
  const raw = { id, time, account: { id: f.account ?? account }, action: { type: f.action ?? 'update', result: 'success', time },
    actor: { id: 'admin', email: 'admin@example.com' }, resource: { id: f.resourceId, type: f.type, ...(f.subjectEmail ? { request: { email: f.subjectEmail } } : {}) } };
  await db.pool.query(
    `insert into audit_logs (source, id, event_time, account_id, action_type, action_result, actor_id, actor_email, resource_type, resource_id, raw)
     values ($1, $2, $3, $4, $5, 'success', 'admin', 'admin@example.com', $6, $7, $8)`,
    [f.source ?? 'account_v2', id, time, f.account ?? account, f.action ?? 'update', f.type, f.resourceId, JSON.stringify(raw)]);
}

// Token and member resources only (the types history reads), by their type's name.
const TRUTH_RESOURCES = `select distinct e.resource_id, to_char(date_trunc('month', e.event_time at time zone 'UTC'), 'YYYY-MM-DD') as month
  from audit_entries e join audit_actions an on an.ref = e.action_ref
  where e.resource_id is not null and (an.key ->> 4 ilike '%token%' or an.key ->> 4 ilike '%member%')`;
/** The months of every entry, from the archive itself: what the index must hold (at least). */
const truth = {
  resources: () => rows(`${TRUTH_RESOURCES} order by 1, 2`),
  emails: () => rows(`select distinct account_ref, lower(coalesce(rest #>> '{resource,request,email}', rest #>> '{newValueJson,email}', rest #>> '{metadata,email}')) as email,
                        to_char(date_trunc('month', event_time at time zone 'UTC'), 'YYYY-MM-DD') as month
                      from audit_entries where account_ref is not null
                        and coalesce(rest #>> '{resource,request,email}', rest #>> '{newValueJson,email}', rest #>> '{metadata,email}') is not null order by 1, 2, 3`),
};
const index = {
  resources: () => rows(`select resource_id, to_char(month, 'YYYY-MM-DD') as month from audit_resource_months order by 1, 2`),
  emails: () => rows(`select account_ref, subject_email as email, to_char(month, 'YYYY-MM-DD') as month from audit_subject_email_months order by 1, 2, 3`),
};

/** What a history read of every month returns (0028's query, no month bound), for comparison. */
async function everyMonth(ids: string[], typeLike: string, email?: string): Promise<string[]> {
  const res = await rows<{ k: string }>(`
    select e.source || ':' || e.id as k from audit_events e
    where e.resource_type = any(array(select t from flarewatch_audit_resource_types() t where t ilike $1))
      and (e.resource_id = any($2::text[]) or ($3::text is not null and e.account_id = $4 and e.subject_email = lower($3)))
    order by e.event_time, e.source, e.id`, [`%${typeLike}%`, ids, email ?? null, account]);
  return res.map((r) => r.k);
}

const timelineKeys = (out: string) =>
  (JSON.parse(out) as { timeline: Array<{ event?: { source: string; id: string } }> }).timeline.flatMap((t) => (t.event ? [`${t.event.source}:${t.event.id}`] : []));

/** The audit partitions the statements a command sends would read (EXPLAIN of each, not run again). */
async function partitionsPlanned(run: () => Promise<unknown>): Promise<string[]> {
  const scans = await plannedScans(db.pool, await captured(run));
  return [...new Set(scans.map((s) => s.relation).filter((r) => r.startsWith('audit_logs_y')))].sort();
}
const partitionOfTime = (iso: string) => `audit_logs_y${iso.slice(0, 4)}m${iso.slice(5, 7)}`;

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({
    seed: 29, rateLimit: false,
    size: { accounts: 2, membersPerAccount: 4, accountTokensPerAccount: 3, userTokens: 2, accountAuditEntries: 300, accountAuditV1Entries: 40, userAuditEntries: 40, auditDays: 120 },
  });
  account = sim.world.accounts[0]!.id;
  const pending = sim.world.addMember(account, { status: 'pending', email: 'invited@example.org' });
  ctx = testContext(db, sim);
  // Archived by the sync (the archive's set-based insert), then entries through the view's row trigger.
  const outcomes = await syncAll(ctx, { streams: [...INVENTORY_KINDS, 'account-audit', 'account-audit-v1', 'user-audit'] });
  expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
  await ensureAuditPartitions(db.db, Array.from({ length: MONTHS }, (_, i) => monthsAgo(i).slice(0, 8) + '01'));
  tokenId = (await rows<{ id: string }>(`select id from api_tokens where account_id = $1 order by id limit 1`, [account]))[0]!.id;
  member = (await rows<{ id: string; email: string }>(`select id, email from account_members where account_id = $1 and status <> 'pending' order by id limit 1`, [account]))[0]!;
  pendingByEmail = { id: pending.id, email: (await rows<{ email: string }>(`select email from account_members where id = $1`, [pending.id]))[0]!.email };
  // The token: changed 20 months ago and 7 months ago, and its v1 copy (the same event in two logs).
  await entry('tok-old', monthsAgo(20), { resourceId: tokenId, type: 'api_token' });
  await entry('tok-mid', monthsAgo(7), { resourceId: tokenId, type: 'api_token' });
  await entry('tok-mid-v1', monthsAgo(7), { resourceId: tokenId, type: 'API_Token', source: 'account_v1' });
  // The member: by id 11 months ago, by e-mail (in capitals) 16 months ago, and in another account (not theirs).
  await entry('mem-id', monthsAgo(11), { resourceId: member.id, type: 'account_member' });
  await entry('mem-email', monthsAgo(16), { resourceId: 'other', type: 'account_member', action: 'member.add', subjectEmail: member.email.toUpperCase() });
  await entry('mem-elsewhere', monthsAgo(14), { resourceId: 'other', type: 'account_member', subjectEmail: member.email, account: sim.world.accounts[1]!.id });
  // A pending member's invitation, by e-mail, at a month's last second (UTC).
  const edge = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 2, 1) - 1000).toISOString();
  await entry('invite-edge', edge, { resourceId: 'other', type: 'account_member', action: 'member.add', subjectEmail: pendingByEmail.email });
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('the month index (0029)', () => {
  it('holds the month of every entry, whichever way it was written', async () => {
    expect((await index.resources()).length).toBeGreaterThan(10);
    // Other resources (DNS records, zones, ...) are not indexed: no reader asks for their months.
    expect(await rows(`select count(*)::int as n from audit_logs where resource_type not ilike '%token%' and resource_type not ilike '%member%'`)).not.toEqual([{ n: 0 }]);
    expect(await rows(`select count(*)::int as n from audit_resource_months m join audit_logs l on l.resource_id = m.resource_id
                       where l.resource_type not ilike '%token%' and l.resource_type not ilike '%member%'`)).toEqual([{ n: 0 }]);
    expect(await index.resources()).toEqual(await truth.resources());
    expect((await index.emails()).length).toBeGreaterThan(2);
    expect(await index.emails()).toEqual(await truth.emails());
  });

  it('the distinct resource types, by a skip through their index, are the DISTINCT of the action table', async () => {
    const types = await rows(`select t from flarewatch_audit_resource_types() t order by 1`);
    expect(types.length).toBeGreaterThan(3);
    expect(types).toEqual(await rows(`select distinct key ->> 4 as t from audit_actions where key ->> 4 is not null order by 1`));
  });

  it('a month edge is the UTC month, whatever the session time zone', async () => {
    await ensureAuditPartitions(db.db, ['2030-01-01']);
    const client = await db.pool.connect();
    try {
      await client.query(`set time zone 'Pacific/Auckland'`);
      await client.query(`insert into audit_logs (source, id, event_time, account_id, resource_type, resource_id, raw)
        values ('account_v2', 'tz-edge', '2030-01-31T23:30:00Z', $1, 'account_member', 'tz-res', '{}')`, [account]);
    } finally {
      await client.query('reset time zone');
      client.release();
    }
    expect(await rows(`select to_char(month, 'YYYY-MM-DD') as month from audit_resource_months where resource_id = 'tz-res'`)).toEqual([{ month: '2030-01-01' }]);
    await db.pool.query(`delete from audit_logs where id = 'tz-edge'`);
  });
});

describe('history reads only the subject\'s months', () => {
  it('token: every event a read of every month finds, from the two months that hold them', async () => {
    const out = (await historyTokenCommand(ctx, tokenId, true)).output;
    const want = await everyMonth([tokenId], 'token');
    expect(want).toEqual(expect.arrayContaining(['account_v2:tok-old', 'account_v2:tok-mid']));
    expect(timelineKeys(out)).toEqual(want);
    const planned = await partitionsPlanned(() => historyTokenCommand(ctx, tokenId, true));
    const months = await rows<{ month: string }>(`select distinct month from (${TRUTH_RESOURCES}) t where resource_id = $1`, [tokenId]);
    expect(planned).toEqual(expect.arrayContaining([partitionOfTime(monthsAgo(20)), partitionOfTime(monthsAgo(7))]));
    expect(planned).toEqual(months.map((m) => partitionOfTime(m.month)).sort());
    expect(planned.length).toBeLessThan(MONTHS / 3);
  });

  it('member: by id and by e-mail in its account, not another account\'s', async () => {
    const out = (await historyMemberCommand(ctx, member.email, true)).output;
    const want = await everyMonth([member.id], 'member', member.email);
    expect(want).toEqual(expect.arrayContaining(['account_v2:mem-id', 'account_v2:mem-email']));
    expect(want).not.toContain('account_v2:mem-elsewhere');
    expect(timelineKeys(out)).toEqual(want);
    const planned = await partitionsPlanned(() => historyMemberCommand(ctx, member.email, true));
    expect(planned).toEqual(expect.arrayContaining([partitionOfTime(monthsAgo(11)), partitionOfTime(monthsAgo(16))]));
    expect(planned).not.toContain(partitionOfTime(monthsAgo(14)));
    expect(planned.length).toBeLessThan(MONTHS / 3);
  });

  it('no month holds the subject: no event and no partition read', async () => {
    const quiet = () => resourceEvents(db.db, { ids: ['tok-quiet'], typeLike: 'token', emails: [{ accountId: account, email: 'nobody@example.org' }] });
    expect(await quiet()).toEqual([]);
    expect(await partitionsPlanned(quiet)).toEqual([]);
  });

  it('an entry deleted through the view leaves its month listed and is gone from history', async () => {
    await entry('tok-gone', monthsAgo(25), { resourceId: tokenId, type: 'api_token' });
    expect(timelineKeys((await historyTokenCommand(ctx, tokenId, true)).output)).toContain('account_v2:tok-gone');
    await db.pool.query(`delete from audit_logs where id = 'tok-gone'`);
    expect(await rows(`select 1 from audit_resource_months where resource_id = $1 and month = $2::date`, [tokenId, monthsAgo(25).slice(0, 8) + '01'])).toHaveLength(1);
    expect(timelineKeys((await historyTokenCommand(ctx, tokenId, true)).output)).toEqual(await everyMonth([tokenId], 'token'));
  });
});

describe('packing and retention', () => {
  it('packing a month changes neither the index nor what history returns', async () => {
    const before = { r: await index.resources(), e: await index.emails(), m: (await historyMemberCommand(ctx, member.email, true)).output };
    expect((await packMonth(db.db, monthsAgo(16).slice(0, 8) + '01')).entries).toBeGreaterThan(0);
    expect(await index.resources()).toEqual(before.r);
    expect(await index.emails()).toEqual(before.e);
    expect((await historyMemberCommand(ctx, member.email, true)).output).toBe(before.m);
  });

  it('retention drops the months, then forgets them in the index; the rest stays', async () => {
    const kept = await rows(`select count(*)::int as n from audit_resource_months where month >= $1::date`, [monthsAgo(12).slice(0, 8) + '01']);
    const dropped = await applyAuditRetention({ ...ctx, config: { ...ctx.config, audit: { ...ctx.config.audit, retentionMonths: 12 } } });
    expect(dropped).toContain(partitionOfTime(monthsAgo(20)));
    expect(await rows(`select count(*)::int as n from audit_resource_months where month < $1::date`, [monthsAgo(12).slice(0, 8) + '01'])).toEqual([{ n: 0 }]);
    expect(await rows(`select count(*)::int as n from audit_subject_email_months where month < $1::date`, [monthsAgo(12).slice(0, 8) + '01'])).toEqual([{ n: 0 }]);
    expect(await rows(`select count(*)::int as n from audit_resource_months where month >= $1::date`, [monthsAgo(12).slice(0, 8) + '01'])).toEqual(kept);
    // Every kept month of every entry, and besides them only the month of the entry deleted earlier.
    expect((await index.resources()).filter((r) => r.resource_id !== 'tz-res')).toEqual(await truth.resources());
    expect(timelineKeys((await historyTokenCommand(ctx, tokenId, true)).output)).toEqual(await everyMonth([tokenId], 'token'));
  });

  it('a drop interrupted before its months were forgotten is tidied by the next packing: packs and month index', async () => {
    const month = monthsAgo(11).slice(0, 8) + '01';
    expect((await packMonth(db.db, month)).packs).toBeGreaterThan(0);
    expect(await rows(`select count(*)::int as n from audit_resource_months where month = $1::date`, [month])).not.toEqual([{ n: 0 }]);
    await db.pool.query(`drop table ${partitionOfTime(month)}`);
    await packClosedMonths(ctx);
    expect(await rows(`select count(*)::int as n from audit_packs where month = $1::date`, [month])).toEqual([{ n: 0 }]);
    expect(await rows(`select count(*)::int as n from audit_resource_months where month = $1::date`, [month])).toEqual([{ n: 0 }]);
    expect(await rows(`select count(*)::int as n from audit_subject_email_months where month = $1::date`, [month])).toEqual([{ n: 0 }]);
    expect((await index.resources()).filter((r) => r.resource_id !== 'tz-res')).toEqual(await truth.resources());
  });
});
