import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { StreamOutcome } from '../../src/sync/runner.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { ACCESS_TABLES, expectedRequests, historyRows, INVENTORY_KINDS, INVENTORY_TABLES, rowVersions } from '../helpers/inventory.js';

const SIZE = { accounts: 2, userTokens: 120, accountTokensPerAccount: 4, membersPerAccount: 60, billingHistory: 10, ipAccessRules: 10 };

let db: TestDatabase;
let sim: Simulator;

beforeEach(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ seed: 11, size: SIZE, rateLimit: false });
});
afterEach(async () => {
  await sim.close();
  await db.drop();
});

// One SDK retry keeps failing walks fast; p-retry's malformed retries are not involved here.
const sync = (streams: string[] = ['user-tokens'], env: Record<string, string> = {}) =>
  syncAll(testContext(db, sim, { FLAREWATCH_MAX_RETRIES: '1', ...env }), { streams });

const only = (outcomes: StreamOutcome[], stream: string) => {
  const o = outcomes.find((x) => x.stream === stream);
  if (!o || !('counts' in o)) throw new Error(`no outcome for ${stream}`);
  return o;
};

async function userTokenRows() {
  const { rows } = await db.pool.query<{ id: string; deleted_at: Date | null; xmin: string }>(
    `select id, deleted_at, xmin::text from api_tokens where owner_type = 'user' order by id`,
  );
  return rows;
}
const liveIds = async () => (await userTokenRows()).filter((r) => r.deleted_at === null).map((r) => r.id).sort();
const worldIds = () => sim.world.userTokens.map((t) => t.id).sort();

async function lastRun(stream: string) {
  const { rows } = await db.pool.query(`select * from sync_runs where stream = $1 order by id desc limit 1`, [stream]);
  return rows[0] as Record<string, unknown>;
}

async function allVersions() {
  const out: Record<string, unknown> = {};
  for (const t of [...Object.keys(INVENTORY_TABLES), ...Object.keys(ACCESS_TABLES)]) out[t] = await rowVersions(db.pool, t);
  return out;
}

describe('a second sync with nothing changed', () => {
  it('rewrites no row, writes no history and costs exactly one request per page', async () => {
    const first = await syncAll(testContext(db, sim), { streams: INVENTORY_KINDS });
    expect(first.filter((o) => o.status !== 'succeeded')).toEqual([]);
    const before = await allVersions();
    const history = await historyRows(db.pool);
    expect((history.api_token_versions as unknown[]).length).toBe((before.api_tokens as unknown[]).length);
    expect((before.api_tokens as unknown[]).length).toBeGreaterThan(120);
    const { rows: [mark] } = await db.pool.query(`select max(id) as id from sync_runs`);
    sim.stats.reset();

    const second = await syncAll(testContext(db, sim), { streams: INVENTORY_KINDS });
    expect(second.filter((o) => o.status !== 'succeeded')).toEqual([]);
    // xmin changes on any rewrite, even one that writes identical values.
    expect(await allVersions()).toEqual(before);
    // No version opened, none closed, none rewritten.
    expect(await historyRows(db.pool)).toEqual(history);
    for (const o of second) expect([o.stream, 'counts' in o && o.counts.rowsUpserted]).toEqual([o.stream, 0]);
    const { rows } = await db.pool.query(`select sum(rows_upserted)::int as up, sum(rows_marked_deleted)::int as del from sync_runs where id > $1`, [mark.id]);
    expect(rows[0]).toEqual({ up: 0, del: 0 });
    // Verified by the first sync less than an hour ago: no request to identify the credential again.
    expect(sim.stats.byRoute).toEqual(expectedRequests(sim.world, { identify: false }));
    expect(sim.stats.count('GET /user/tokens')).toBe(3);
    // Every page asked for existed: no trailing empty page.
    for (const entry of sim.stats.log) if (entry.query.page) expect(Number(entry.query.page)).toBeLessThanOrEqual(3);
  });

  it('does rewrite a row whose content changed, and only that row', async () => {
    await sync();
    const before = new Map((await userTokenRows()).map((r) => [r.id, r.xmin]));
    const changed = sim.world.userTokens[70]!.id;
    sim.world.updateToken(changed, { name: 'renamed' });
    const out = only(await sync(), 'user-tokens:default');
    expect(out.counts.rowsUpserted).toBe(1);
    const after = await userTokenRows();
    expect(after.filter((r) => r.xmin !== before.get(r.id)).map((r) => r.id)).toEqual([changed]);
    const { rows: versions } = await db.pool.query(`select token_id, change, changed_fields, name from api_token_versions where valid_to is null and change <> 'created'`);
    expect(versions).toEqual([{ token_id: changed, change: 'changed', changed_fields: ['name'], name: 'renamed' }]);
    const { rows } = await db.pool.query(`select name, updated_at > first_seen_at as touched from api_tokens where id = $1`, [changed]);
    expect(rows[0]).toEqual({ name: 'renamed', touched: true });
  });
});

describe('deletions', () => {
  it('marks a removed token deleted after the next complete walk, and only that token', async () => {
    await sync();
    const gone = sim.world.removeToken(sim.world.userTokens[60]!.id);
    const out = only(await sync(), 'user-tokens:default');
    expect(out).toMatchObject({ status: 'succeeded', counts: { rowsMarkedDeleted: 1, rowsUpserted: 0 } });
    const rows = await userTokenRows();
    expect(rows.filter((r) => r.deleted_at !== null).map((r) => r.id)).toEqual([gone.id]);
    expect(await liveIds()).toEqual(worldIds());
  });

  it('does not mark it when the walk fails half way; the next clean sync does', async () => {
    await sync();
    const gone = sim.world.removeToken(sim.world.userTokens[10]!.id);
    sim.setFaults([{ route: 'GET /user/tokens', kind: '5xx', status: 503, match: { page: '2' } }]);
    sim.stats.reset();
    const failed = only(await sync(), 'user-tokens:default');
    expect(failed.status).toBe('failed');
    // Page 1, then page 2 twice (one SDK retry).
    expect(sim.stats.total).toBe(3);
    expect(failed.counts.requests).toBe(3);
    const message = failed.status === 'failed' ? failed.error.message : '';
    expect(message).toContain('stream user-tokens');
    expect(message).toContain('GET /user/tokens page 2');
    expect(message).toContain('HTTP 503');
    expect(await lastRun('user-tokens:default')).toMatchObject({ status: 'failed', error: message, requests: 3, pages: 1, rows_marked_deleted: 0 });
    expect((await userTokenRows()).find((r) => r.id === gone.id)!.deleted_at).toBeNull();

    sim.setFaults([]);
    const clean = only(await sync(), 'user-tokens:default');
    expect(clean).toMatchObject({ status: 'succeeded', counts: { rowsMarkedDeleted: 1 } });
    expect((await userTokenRows()).find((r) => r.id === gone.id)!.deleted_at).toBeInstanceOf(Date);
    expect(await liveIds()).toEqual(worldIds());
  });

  it('clears deleted_at when a token with the same id comes back', async () => {
    await sync();
    const gone = sim.world.removeToken(sim.world.userTokens[5]!.id);
    await sync();
    expect((await userTokenRows()).find((r) => r.id === gone.id)!.deleted_at).toBeInstanceOf(Date);
    sim.world.userTokens.push(gone);
    const out = only(await sync(), 'user-tokens:default');
    expect(out.counts).toMatchObject({ rowsUpserted: 1, rowsMarkedDeleted: 0 });
    expect((await userTokenRows()).find((r) => r.id === gone.id)!.deleted_at).toBeNull();
    expect(await liveIds()).toEqual(worldIds());
  });

  it('marks a removed member deleted only in its own account', async () => {
    const [a, b] = sim.world.accounts.map((x) => x.id) as [string, string];
    await sync(['accounts', 'members']);
    const gone = sim.world.removeMember(a, sim.world.members(a)[55]!.id);
    const out = await sync(['members']);
    expect(only(out, `members:${a}`).counts.rowsMarkedDeleted).toBe(1);
    expect(only(out, `members:${b}`).counts.rowsMarkedDeleted).toBe(0);
    const { rows } = await db.pool.query(`select id from account_members where deleted_at is not null`);
    expect(rows).toEqual([{ id: gone.id }]);
  });
});

describe('resuming an interrupted walk', () => {
  it('a walk that failed on page 3 resumes from page 3; the final state is exact', async () => {
    sim.setFaults([{ route: 'GET /user/tokens', kind: '5xx', match: { page: '3' } }]);
    const failed = only(await sync(), 'user-tokens:default');
    expect(failed.status).toBe('failed');
    expect(failed.status === 'failed' && failed.error.message).toContain('page 3');
    expect(await lastRun('user-tokens:default')).toMatchObject({ status: 'failed', pages: 2, rows_fetched: 100 });
    // Pages 1 and 2 were committed before the failure.
    expect((await userTokenRows()).length).toBe(100);

    sim.setFaults([]);
    sim.stats.reset();
    const resumed = only(await sync(), 'user-tokens:default');
    // Page 2 is re-read to check that nothing moved across the resume point, then page 3 is stored.
    expect(resumed).toMatchObject({ status: 'succeeded', counts: { pages: 1, requests: 2, rowsFetched: 20, rowsUpserted: 20 } });
    expect(sim.stats.log.map((e) => e.query.page)).toEqual(['2', '3']);
    expect(await lastRun('user-tokens:default')).toMatchObject({ status: 'succeeded', resumed_from_page: 3 });
    expect(await liveIds()).toEqual(worldIds());
    expect((await userTokenRows()).length).toBe(120);

    // The walk after a complete one starts from page 1 again.
    sim.stats.reset();
    const next = only(await sync(), 'user-tokens:default');
    expect(next.counts.pages).toBe(3);
    expect(await lastRun('user-tokens:default')).toMatchObject({ resumed_from_page: null });
  });

  it('starts over instead of resuming when the listing changed size meanwhile', async () => {
    sim.setFaults([{ route: 'GET /user/tokens', kind: '5xx', match: { page: '3' } }]);
    await sync();
    sim.setFaults([]);
    // Removing a token from page 1 shifts every later one up a page: resuming at page 3 would skip one.
    // (Not the first token: the simulator's credential stands for it.)
    const gone = sim.world.removeToken(sim.world.userTokens[1]!.id);
    sim.stats.reset();
    const out = only(await sync(), 'user-tokens:default');
    expect(out).toMatchObject({ status: 'succeeded', counts: { pages: 3, rowsMarkedDeleted: 1 } });
    // Page 2 (the resume check, whose count differs) and the prefetched page 3, then a whole walk.
    expect(sim.stats.log.filter((e) => e.route === 'GET /user/tokens').map((e) => e.query.page).sort()).toEqual(['1', '2', '2', '3', '3']);
    // The deletion confirmed where Cloudflare answers for one token: 404.
    expect(sim.stats.log.filter((e) => e.route === 'GET /user/tokens/:token_id').map((e) => [e.path.split('/').pop(), e.status])).toEqual([[gone.id, 404]]);
    expect(await lastRun('user-tokens:default')).toMatchObject({ pages: 3, rows_fetched: 119, resumed_from_page: null });
    expect(await liveIds()).toEqual(worldIds());
    expect((await userTokenRows()).find((r) => r.id === gone.id)!.deleted_at).toBeInstanceOf(Date);
  });
  it('starts over when items shifted across the resume point although the count stayed the same', async () => {
    await sync();
    sim.setFaults([{ route: 'GET /user/tokens', kind: '5xx', match: { page: '3' } }]);
    expect(only(await sync(), 'user-tokens:default').status).toBe('failed');
    sim.setFaults([]);
    // One token leaves page 1, one is added at the end: still 120, but the first token of old page 3
    // is now the last of page 2. Resuming blindly at page 3 would never see it and mark it deleted.
    const shifted = sim.world.userTokens[100]!.id;
    const gone = sim.world.removeToken(sim.world.userTokens[1]!.id);
    const added = sim.world.addUserToken({ name: 'added meanwhile' });
    const out = only(await sync(), 'user-tokens:default');
    expect(out).toMatchObject({ status: 'succeeded', counts: { rowsMarkedDeleted: 1 } });
    const rows = await userTokenRows();
    expect(rows.filter((r) => r.deleted_at !== null).map((r) => r.id)).toEqual([gone.id]);
    expect(rows.find((r) => r.id === shifted)!.deleted_at).toBeNull();
    expect(rows.find((r) => r.id === added.id)!.deleted_at).toBeNull();
    expect(await liveIds()).toEqual(worldIds());
  });
});
