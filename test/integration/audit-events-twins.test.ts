import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAuditPartitions } from '../../src/db/queries/audit-partitions.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { oldDefinition } from '../helpers/old-definition.js';

// Migration 0028 moved audit_events' twin test (the same event in another log) out of the view
// into flarewatch_audit_twin(), so a query over the view is planned once per partition instead of
// once per pair of partitions. Its rows must be those of 0023's definition, installed beside it,
// over a synced archive and entries made to hit each branch of the twin test.

const MONTHS = 30;
let db: TestDatabase;
let sim: Simulator;

const auditEventsOf0023 = () => oldDefinition('0023_audit_compact', 'view', 'CREATE VIEW "audit_events" AS', 'CREATE VIEW audit_events_0023 AS');

const T0 = Date.parse('2026-10-14T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** An entry written through audit_logs with just what the twin test reads. */
async function entry(source: string, id: string, ms: number, f: { account?: string; resource?: string | null; email?: string | null; actorId?: string; result?: string | null } = {}): Promise<void> {
  const e = { account: 'acc-1', resource: 'res-1', email: 'a@example.com', actorId: 'user-a', result: 'success', ...f };
  const raw = { id, when: at(ms), account: { id: e.account }, actor: { id: e.actorId, email: e.email }, resource: { id: e.resource }, action: { result: e.result } };
  await db.pool.query(
    `insert into audit_logs (source, id, event_time, account_id, action_type, action_result, actor_id, actor_email, resource_type, resource_id, raw)
     values ($1, $2, $3, $4, 'zone.update', $5, $6, $7, 'zone', $8, $9)`,
    [source, id, at(ms), e.account, e.result, e.actorId, e.email, e.resource, JSON.stringify(raw)]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({
    seed: 28, rateLimit: false,
    size: { accounts: 2, membersPerAccount: 3, accountTokensPerAccount: 2, userTokens: 2, accountAuditEntries: 300, accountAuditV1Entries: 60, userAuditEntries: 60, auditDays: 120 },
  });
  const outcomes = await syncAll(testContext(db, sim), { streams: ['account-audit', 'account-audit-v1', 'user-audit'] });
  expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
  const months = Array.from({ length: MONTHS }, (_, i) => {
    const d = new Date(T0);
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() - i);
    return d.toISOString().slice(0, 10);
  });
  await ensureAuditPartitions(db.db, months);
  await db.pool.query(auditEventsOf0023());
  // The user and account v1 logs: the same id and time is one event; another time is not.
  await entry('user_v1', 'same-id', 0);
  await entry('account_v1', 'same-id', 0);
  await entry('user_v1', 'same-id-later', 5_000);
  await entry('account_v1', 'same-id-later', 6_000);
  // v1 and v2 within a second (the same resource, actor and result), at the edges and past them.
  await entry('account_v1', 'v1-near', 60_000, { resource: 'res-2' });
  await entry('account_v2', 'v2-near', 61_000, { resource: 'res-2' });
  await entry('account_v1', 'v1-far', 120_000, { resource: 'res-3' });
  await entry('account_v2', 'v2-far', 121_001, { resource: 'res-3' });
  // No e-mail on one side: the actor ids decide; another result or account is another event.
  await entry('account_v1', 'v1-no-email', 180_000, { resource: 'res-4', email: null });
  await entry('account_v2', 'v2-with-email', 180_500, { resource: 'res-4' });
  await entry('account_v1', 'v1-other-actor', 190_000, { resource: 'res-5', email: null, actorId: 'user-b' });
  await entry('account_v2', 'v2-actor-a', 190_000, { resource: 'res-5' });
  await entry('account_v1', 'v1-failed', 240_000, { resource: 'res-6', result: 'failure' });
  await entry('account_v2', 'v2-succeeded', 240_000, { resource: 'res-6' });
  await entry('account_v1', 'v1-null-result', 250_000, { resource: 'res-10', result: null });
  await entry('account_v2', 'v2-null-result', 250_000, { resource: 'res-10', result: null });
  await entry('account_v1', 'v1-acc-2', 300_000, { resource: 'res-7', account: 'acc-2' });
  await entry('account_v2', 'v2-acc-1', 300_000, { resource: 'res-7' });
  // The user log is not tied to an account; no resource is never a v2 twin.
  await entry('user_v1', 'user-acc-2', 360_000, { resource: 'res-8', account: 'acc-2' });
  await entry('account_v2', 'v2-for-user', 360_200, { resource: 'res-8' });
  await entry('account_v1', 'v1-no-resource', 420_000, { resource: null });
  await entry('account_v2', 'v2-no-resource', 420_000, { resource: null });
  // One event in all three logs, and v2 copies across a month's edge.
  await entry('user_v1', 'triple', 480_000, { resource: 'res-9' });
  await entry('account_v1', 'triple', 480_000, { resource: 'res-9' });
  await entry('account_v2', 'triple-v2', 480_400, { resource: 'res-9' });
  const edge = Date.parse('2026-11-01T00:00:00.000Z') - T0;
  await entry('account_v1', 'v1-edge', edge - 400, { resource: 'res-11' });
  await entry('account_v2', 'v2-edge', edge + 400, { resource: 'res-11' });
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

const rowsOf = async (view: string, where = 'true'): Promise<string[]> =>
  (await db.pool.query<{ r: string }>(`select to_jsonb(v)::text as r from ${view} v where ${where} order by source, id, event_time`)).rows.map((x) => x.r);

const sourcesOf = async (id: string, source?: string): Promise<string[] | undefined> =>
  (await db.pool.query<{ sources: string[] }>(`select sources from audit_events where id = $1 and source = coalesce($2, source)`, [id, source ?? null])).rows[0]?.sources;

/** Scans of audit partitions in the plan of a query over `view`. */
async function partitionScans(view: string, where: string): Promise<number> {
  const plan = (await db.pool.query<{ 'QUERY PLAN': unknown }>(`explain (format json) select * from ${view} where ${where}`)).rows[0]!['QUERY PLAN'];
  return (JSON.stringify(plan).match(/"Relation Name":"audit_logs_y/g) ?? []).length;
}

describe('audit_events (0028) against 0023\'s definition', () => {
  it('the archive holds twins of every kind (synced and made)', async () => {
    const [n] = (await db.pool.query<{ all: number; events: number }>(`select (select count(*)::int from audit_logs) as all, (select count(*)::int from audit_events) as events`)).rows;
    expect(n!.all).toBeGreaterThan(400);
    expect(n!.events).toBeLessThan(n!.all);
  });

  it('the same rows, column for column, with the same sources', async () => {
    const old = await rowsOf('audit_events_0023');
    expect(old.length).toBeGreaterThan(0);
    expect(await rowsOf('audit_events')).toEqual(old);
  });

  it('the same rows for a query about one resource, one day and one log', async () => {
    for (const where of [`resource_id = 'res-9'`, `event_time >= '2026-10-14' and event_time < '2026-10-15'`, `source = 'account_v1'`]) {
      expect(await rowsOf('audit_events', where)).toEqual(await rowsOf('audit_events_0023', where));
    }
  });

  it('each branch of the twin test decides as intended', async () => {
    expect(await sourcesOf('same-id', 'account_v1')).toEqual(['account_v1', 'user_v1']);
    expect(await sourcesOf('same-id', 'user_v1')).toBeUndefined();
    expect(await sourcesOf('same-id-later', 'account_v1')).toEqual(['account_v1']);
    expect(await sourcesOf('same-id-later', 'user_v1')).toEqual(['user_v1']);
    expect(await sourcesOf('v2-near')).toEqual(['account_v2', 'account_v1']);
    expect(await sourcesOf('v1-near')).toBeUndefined();
    expect(await sourcesOf('v1-far')).toEqual(['account_v1']);
    expect(await sourcesOf('v2-with-email')).toEqual(['account_v2', 'account_v1']);
    expect(await sourcesOf('v1-other-actor')).toEqual(['account_v1']);
    expect(await sourcesOf('v1-failed')).toEqual(['account_v1']);
    expect(await sourcesOf('v2-null-result')).toEqual(['account_v2', 'account_v1']);
    expect(await sourcesOf('v1-acc-2')).toEqual(['account_v1']);
    expect(await sourcesOf('v2-for-user')).toEqual(['account_v2', 'user_v1']);
    expect(await sourcesOf('v1-no-resource')).toEqual(['account_v1']);
    expect(await sourcesOf('triple-v2')).toEqual(['account_v2', 'account_v1', 'user_v1']);
    expect(await sourcesOf('triple', 'account_v1')).toBeUndefined();
    expect(await sourcesOf('triple', 'user_v1')).toBeUndefined();
    expect(await sourcesOf('v2-edge')).toEqual(['account_v2', 'account_v1']);
  });

  it('a query over the view plans each partition once, and a query about one day its own partition only', async () => {
    const [{ n }] = (await db.pool.query<{ n: number }>(`select count(*)::int as n from pg_inherits i join pg_class c on c.oid = i.inhrelid where c.relname like 'audit_logs_y%' and c.relkind = 'r'`)).rows as [{ n: number }];
    expect(n).toBeGreaterThanOrEqual(MONTHS);
    const oneResource = `resource_type = any(array['zone']) and (resource_id = any(array['res-9']) or (account_id = 'acc-1' and lower(raw #>> '{resource,request,email}') = 'x'))`;
    const oneDay = `event_time >= '2026-10-14' and event_time < '2026-10-15'`;
    // 0023 planned its twin subqueries over every partition again: 3 to 4 times the partitions.
    expect(await partitionScans('audit_events_0023', oneResource)).toBeGreaterThan(3 * n);
    expect(await partitionScans('audit_events_0023', oneDay)).toBeGreaterThan(2 * n);
    expect(await partitionScans('audit_events', oneResource)).toBeLessThanOrEqual(n);
    expect(await partitionScans('audit_events', oneDay)).toBe(1);
  });
});
