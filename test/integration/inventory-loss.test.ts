import { afterEach, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/commands/run.js';
import { startSimulator, type FaultRule, type Simulator, type WorldSize } from '../../src/simulator/index.js';
import { streamJob } from '../../src/sync/catalog.js';
import { runStream, type StreamOutcome } from '../../src/sync/runner.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { outcomeOf, succeeded } from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';

// Inventory listings that change under a walk, or lose what they list, must never mark a live
// object deleted (issue "No silent loss", cases 6 and 7). Each world is stated in a few lines.

const MEMBERS = 'GET /accounts/:account_id/members';

interface Harness { db: TestDatabase; sim: Simulator; ctx: (env?: Record<string, string>) => TestContext; account: string }
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function harness(size: Partial<WorldSize>): Promise<Harness> {
  const sim = await startSimulator({ seed: 17, size: { accounts: 2, ...size }, rateLimit: false });
  const db = await createTestDatabase();
  cleanups.push(() => db.drop(), () => sim.close());
  return { db, sim, ctx: (env = {}) => testContext(db, sim, { LOG_LEVEL: 'info', ...env }), account: sim.world.accounts[0]!.id };
}

const q = async (h: Harness, sql: string, params: unknown[] = []) => (await h.db.pool.query(sql, params)).rows;
const deletedMembers = async (h: Harness) =>
  (await q(h, `select id, deleted_reason from account_members where deleted_at is not null order by id`)) as Array<{ id: string; deleted_reason: string }>;
const liveMembers = async (h: Harness, account: string) =>
  ((await q(h, `select id from account_members where deleted_at is null and account_id = $1 order by id`, [account])) as Array<{ id: string }>).map((r) => r.id);
const lastRun = async (h: Harness, stream: string) => (await q(h, `select * from sync_runs where stream = $1 order by id desc limit 1`, [stream]))[0] as Record<string, unknown>;

describe('a member listing that shifts between two page requests', () => {
  it('never marks the member that slid onto an earlier page deleted; the removed one goes once a walk proves it', async () => {
    const h = await harness({ membersPerAccount: 60 });
    const stream = `members:${h.account}`;
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    // While page 2 is fetched, a member of page 1 is removed: the first member of page 2 moves onto page 1.
    const firstOfPage2 = h.sim.world.members(h.account)[50]!.id;
    h.sim.setFaults([{ route: MEMBERS, kind: 'shift-listing', match: { page: '1' }, count: 1 }]);
    const o = succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    // The pages did not join up (the total changed between them): it walked again rather than trust them,
    // and marks nothing it saw in either walk: the shifted member is live, the removed one waits one walk.
    expect(o.counts.rewalks).toBeGreaterThanOrEqual(1);
    expect(await deletedMembers(h)).toEqual([]);
    expect(await liveMembers(h, h.account)).toContain(firstOfPage2);
    const [{ removedId }] = h.sim.shifted as unknown as [{ removedId: string }];
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    expect(await deletedMembers(h)).toEqual([{ id: removedId, deleted_reason: 'confirmed gone: its detail endpoint answered 404' }]);
    expect((await liveMembers(h, h.account)).sort()).toEqual(h.sim.world.members(h.account).map((m) => m.id).sort());
  });

  it('one removed from page 1 and one added at the end keeps the total: the shifted member is still kept (detail 200)', async () => {
    const h = await harness({ membersPerAccount: 60 });
    const stream = `members:${h.account}`;
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    const firstOfPage2 = h.sim.world.members(h.account)[50]!.id;
    h.sim.setFaults([{ route: MEMBERS, kind: 'shift-listing', match: { page: '1' }, count: 1, replace: true }]);
    const o = succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    // The count agreed (60 = 60) and the ids seen were 60: the listing still hid one member, which
    // the detail endpoint showed to exist. Nothing is marked deleted on this walk.
    expect(await deletedMembers(h)).toEqual([]);
    expect(await liveMembers(h, h.account)).toContain(firstOfPage2);
    expect(o.counts.note).toContain(`the listing omitted 1 object(s) that still exist (${firstOfPage2})`);
    const detail = h.sim.stats.log.filter((l) => l.route === 'GET /accounts/:account_id/members/:member_id');
    expect(detail.map((l) => [l.path.split('/').pop(), l.status])).toEqual([[firstOfPage2, 200]]);
    // The next walk sees the world as it is: the removed member goes, with its reason.
    h.sim.setFaults([]);
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    const [{ removedId, addedId }] = h.sim.shifted as unknown as [{ removedId: string; addedId: string }];
    expect((await deletedMembers(h)).map((r) => r.id)).toEqual([removedId]);
    expect(await liveMembers(h, h.account)).toContain(addedId);
  });

  it('user tokens: the same, confirmed on /user/tokens/{id}', async () => {
    const h = await harness({ userTokens: 80 });
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: ['user-tokens'] }), 'user-tokens:default'));
    h.sim.setFaults([{ route: 'GET /user/tokens', kind: 'shift-listing', match: { page: '1' }, count: 1, replace: true }]);
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: ['user-tokens'] }), 'user-tokens:default'));
    const { rows } = await h.db.pool.query(`select count(*)::int as n from api_tokens where deleted_at is not null`);
    expect(rows[0].n).toBe(0);
  });

  it('a listing with no detail endpoint (billing history) is confirmed by a second walk', async () => {
    const h = await harness({ billingHistory: 70 });
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: ['billing-history'] }), 'billing-history:default'));
    const firstOfPage2 = h.sim.world.billingHistory[50]!.id as string;
    // One item leaves page 1, one is added: the total stays 70 and the walk sees 70 ids, yet one live item is hidden.
    h.sim.setFaults([{ route: 'GET /user/billing/history', kind: 'shift-listing', match: { page: '1' }, count: 1, replace: true }]);
    const o = succeeded(outcomeOf(await syncAll(h.ctx(), { streams: ['billing-history'] }), 'billing-history:default'));
    expect(o.counts.rewalks).toBe(1);
    const deleted = async () => (await q(h, `select id from billing_history where deleted_at is not null`)).map((r) => r.id);
    expect(await deleted()).toEqual([]);
    expect((await q(h, `select deleted_at from billing_history where id = $1`, [firstOfPage2]))[0]).toEqual({ deleted_at: null });
    const [{ removedId }] = h.sim.shifted as unknown as [{ removedId: string }];
    h.sim.setFaults([]);
    const next = succeeded(outcomeOf(await syncAll(h.ctx(), { streams: ['billing-history'] }), 'billing-history:default'));
    expect(next.counts).toMatchObject({ rewalks: 1, rowsMarkedDeleted: 1 });
    expect(await deleted()).toEqual([removedId]);
    expect((await q(h, `select deleted_reason from billing_history where id = $1`, [removedId]))[0]).toEqual({ deleted_reason: 'absent from two complete walks of the listing' });
  });
});

describe('the mass-deletion guard', () => {
  it('holds back a walk that would delete most of a listing until a second complete walk agrees, and says so', async () => {
    const h = await harness({ membersPerAccount: 12 });
    const stream = `members:${h.account}`;
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    // A permission change (or a bug) empties the listing: Cloudflare answers result: null.
    h.sim.setFaults([{ route: MEMBERS, kind: 'null-result' }]);
    const held = succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    expect(held.counts).toMatchObject({ rowsMarkedDeleted: 0, deletionsHeld: 12 });
    expect(held.counts.note).toContain('mass-deletion guard: 12 of 12 live rows are missing');
    expect(await lastRun(h, stream)).toMatchObject({ deletions_held: 12, rows_marked_deleted: 0, note: expect.stringContaining('--confirm-deletions') });
    const state = (await q(h, `select held_deletions from sync_state where stream = $1`, [stream]))[0] as { held_deletions: { ids: string[]; live: number } };
    expect(state.held_deletions).toMatchObject({ live: 12 });
    expect(state.held_deletions.ids).toHaveLength(12);
    expect(await liveMembers(h, h.account)).toHaveLength(12);
    // The listing comes back: the guard was right, nothing is deleted and the hold is cleared.
    h.sim.setFaults([]);
    const back = succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    expect(back.counts).toMatchObject({ rowsMarkedDeleted: 0, deletionsHeld: 0 });
    expect((await q(h, `select held_deletions from sync_state where stream = $1`, [stream]))[0]).toEqual({ held_deletions: null });
  });

  it('a second complete walk that agrees marks them (each confirmed by its detail endpoint)', async () => {
    const h = await harness({ membersPerAccount: 12 });
    const stream = `members:${h.account}`;
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    const gone = h.sim.world.members(h.account).slice(2).map((m) => h.sim.world.removeMember(h.account, m.id).id);
    expect(succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream)).counts).toMatchObject({ deletionsHeld: 10, rowsMarkedDeleted: 0 });
    const agreed = succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    expect(agreed.counts).toMatchObject({ deletionsHeld: 0, rowsMarkedDeleted: 10 });
    expect((await deletedMembers(h)).map((r) => r.id).sort()).toEqual(gone.sort());
  });

  it('the operator can release it at once: sync <stream> --confirm-deletions', async () => {
    const h = await harness({ membersPerAccount: 12 });
    const stream = `members:${h.account}`;
    succeeded(outcomeOf(await syncAll(h.ctx(), { streams: [stream] }), stream));
    for (const m of h.sim.world.members(h.account).slice(3)) h.sim.world.removeMember(h.account, m.id);
    const o = await runStream(h.ctx(), streamJob(stream), { confirmDeletions: true });
    expect(succeeded(o).counts).toMatchObject({ deletionsHeld: 0, rowsMarkedDeleted: 9 });
  });
});

describe('an account that disappears, or is not watched', () => {
  const findingsOf = async (h: Harness, account: string) =>
    (await q(h, `select status, count(*)::int as n from findings where account_id = $1 group by status order by status`, [account])) as Array<{ status: string; n: number }>;

  it('removed from /accounts: marked deleted with its reason, its tokens, members and roles follow, its findings resolve', async () => {
    const h = await harness({ membersPerAccount: 6, accountTokensPerAccount: 4 });
    const ctx = h.ctx();
    const first = await syncAll(ctx, { streams: INVENTORY_KINDS });
    expect(first.filter((o) => o.status !== 'succeeded')).toEqual([]);
    await runChecks(ctx);
    expect((await findingsOf(h, h.account)).find((f) => f.status === 'open')?.n).toBeGreaterThan(0);
    h.sim.world.removeAccount(h.account);
    const second = await syncAll(h.ctx(), { streams: INVENTORY_KINDS });
    expect(second.filter((o) => o.status === 'failed')).toEqual([]);
    // Its streams are no longer walked.
    expect(second.map((o) => o.stream).filter((s) => s.endsWith(h.account))).toEqual([]);
    const account = (await q(h, `select deleted_at, deleted_reason from accounts where id = $1`, [h.account]))[0]!;
    expect(account.deleted_at).toBeInstanceOf(Date);
    expect(account.deleted_reason).toMatch(/reached by no configured credential: no longer listed for credential default/);
    for (const table of ['api_tokens', 'account_members', 'account_roles', 'subscriptions']) {
      const rows = await q(h, `select deleted_at is null as live, deleted_reason from ${table} where account_id = $1`, [h.account]);
      expect(rows.length, table).toBeGreaterThan(0);
      for (const r of rows) expect([table, r.live, r.deleted_reason]).toEqual([table, false, expect.stringContaining(`account ${h.account} reached by no configured credential`)]);
    }
    // The other account is untouched.
    const other = h.sim.world.accounts.find((a) => a.id !== h.account)!.id;
    expect(await liveMembers(h, other)).toHaveLength(6);
    await runChecks(h.ctx());
    expect((await findingsOf(h, h.account)).map((f) => f.status)).toEqual(['resolved']);
    // Resolved saying why, in the sync layer's words.
    const reasons = await q(h, `select distinct resolution_reason from findings where account_id = $1`, [h.account]);
    expect(reasons).toEqual([{ resolution_reason: expect.stringMatching(new RegExp(`^account ${h.account} reached by no configured credential: no longer listed for credential default`)) }]);
  });

  it('excluded by FLAREWATCH_ACCOUNTS: deleted as not watched, its rows follow, rules no longer open findings on it', async () => {
    const h = await harness({ membersPerAccount: 6, accountTokensPerAccount: 4 });
    const first = await syncAll(h.ctx(), { streams: INVENTORY_KINDS });
    expect(first.filter((o) => o.status !== 'succeeded')).toEqual([]);
    await runChecks(h.ctx());
    const other = h.sim.world.accounts.find((a) => a.id !== h.account)!.id;
    const ctx = h.ctx({ FLAREWATCH_ACCOUNTS: other });
    const second = await syncAll(ctx, { streams: INVENTORY_KINDS });
    expect(second.filter((o) => o.status === 'failed')).toEqual([]);
    const account = (await q(h, `select deleted_reason from accounts where id = $1`, [h.account]))[0]!;
    expect(account.deleted_reason).toMatch(/not watched/);
    expect(await liveMembers(h, h.account)).toEqual([]);
    await runChecks(ctx);
    expect((await findingsOf(h, h.account)).map((f) => f.status)).toEqual(['resolved']);
    expect(await q(h, `select distinct resolution_reason from findings where account_id = $1`, [h.account])).toEqual([{ resolution_reason: `account ${h.account} not watched (FLAREWATCH_ACCOUNTS / cloudflare.accounts)` }]);
    // Watched again: everything comes back live.
    const third = await syncAll(h.ctx(), { streams: INVENTORY_KINDS });
    expect(third.filter((o) => o.status === 'failed')).toEqual([]);
    expect(await liveMembers(h, h.account)).toHaveLength(6);
  });
});

describe('the database pool', () => {
  it('a pool smaller than the walks at once still completes a run: each walk holds one connection', async () => {
    const h = await harness({});
    const { openApp } = await import('../../src/app.js');
    const { runOnce } = await import('../../src/commands/run.js');
    const { loadConfig } = await import('../../src/config.js');
    const config = loadConfig({ CLOUDFLARE_BASE_URL: h.sim.url, CLOUDFLARE_API_TOKEN: h.sim.credentials.apiToken, DATABASE_URL: h.db.url, FLAREWATCH_DB_POOL_SIZE: '2', LOG_LEVEL: 'silent' });
    const app = await openApp(config, { migrate: false });
    try {
      const result = await runOnce(app.ctx, { streams: INVENTORY_KINDS, checks: false });
      expect(result.outcomes.filter((o: StreamOutcome) => o.status !== 'succeeded')).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('a daemon whose pool cannot hold its walks is refused at start in one line', async () => {
    const { loadConfig, poolSizeFor, ConfigError } = await import('../../src/config.js');
    const config = loadConfig({ FLAREWATCH_DB_POOL_SIZE: '4', FLAREWATCH_WORKER_CONCURRENCY: '10' });
    expect(() => poolSizeFor(config, config.daemon.concurrency)).toThrow(ConfigError);
    expect(() => poolSizeFor(config, config.daemon.concurrency)).toThrow(/FLAREWATCH_DB_POOL_SIZE \(database\.poolSize\): 4 is too small for 10 stream walks at once .* set it to at least 13/);
    // Unset, the pool is sized from the concurrency.
    expect(poolSizeFor(loadConfig({ FLAREWATCH_WORKER_CONCURRENCY: '10' }), 10)).toBe(13);
  });

  it('waiting for a connection ends with an error after the connect timeout, never a hang', async () => {
    const h = await harness({});
    const { connectDatabase } = await import('../../src/db/client.js');
    const database = connectDatabase(h.db.url, { max: 1, connectTimeoutMs: 300 });
    const held = await database.pool.connect();
    try {
      await expect(database.pool.query('select 1')).rejects.toThrow(/timeout/i);
    } finally {
      held.release();
      await database.close();
    }
  });
});
