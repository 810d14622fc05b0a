import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import type { StreamOutcome } from '../../src/sync/runner.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { expectedRequests, IDENTITY_REQUESTS, INVENTORY_KINDS, publicTables, viaJson } from '../helpers/inventory.js';

// A world big enough that user tokens (120) and members (60 per account) span several pages.
const SIZE = { accounts: 3, userTokens: 120, accountTokensPerAccount: 8, membersPerAccount: 60, userInvites: 4, organizations: 3, billingHistory: 55, ipAccessRules: 30 };
const SECRET_VALUE = 'tokensecret-9f8e7d6c5b4a39281706f5e4d3c2b1a0';

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let outcomes: StreamOutcome[];

type Row = Record<string, unknown> & { raw: Record<string, unknown> };
const rows = async (sql: string, params: unknown[] = []) => (await db.pool.query<Row>(sql, params)).rows;
const ids = (list: Array<{ id: string }>) => list.map((x) => x.id).sort();
const byId = <T extends { id: string }>(list: T[]) => new Map(list.map((x) => [x.id, x]));

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ seed: 7, size: SIZE, rateLimit: false });
  // An endpoint that (wrongly) echoes a token's secret: it must still never be stored.
  sim.world.addUserToken({ name: 'echoes its secret', value: SECRET_VALUE } as never);
  ctx = testContext(db, sim);
  outcomes = await syncAll(ctx, { streams: INVENTORY_KINDS });
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('a full inventory sync', () => {
  it('walks every stream successfully, once per account for account streams', () => {
    const failed = outcomes.filter((o) => o.status !== 'succeeded');
    expect(failed).toEqual([]);
    const accountIds = sim.world.accounts.map((a) => a.id);
    const names = outcomes.map((o) => o.stream).sort();
    const expected = [
      ...['user', 'accounts', 'user-tokens', 'user-invites', 'user-organizations', 'user-subscriptions', 'billing-history', 'ip-access-rules', 'organizations'].map((k) => `${k}:default`),
      'permission-groups',
      ...['account-tokens', 'account-permission-groups', 'members', 'roles', 'account-subscriptions', 'user-groups', 'resource-groups', 'iam-permission-groups', 'zones']
        .flatMap((k) => accountIds.map((id) => `${k}:${id}`)),
    ].sort();
    expect(names).toEqual(expected);
  });

  it('costs exactly one request per page: no trailing empty page, no extra call', () => {
    expect(sim.stats.byRoute).toEqual(expectedRequests(sim.world));
    expect(sim.stats.count('GET /user/tokens')).toBe(3);
    expect(sim.stats.count('GET /accounts/:account_id/members')).toBe(3 * 2);
    const counted = outcomes.reduce((s, o) => s + ('counts' in o ? o.counts.requests : 0), 0);
    // Identifying the credential is the one cost no stream's run row carries.
    const identity = Object.values(IDENTITY_REQUESTS).reduce((a, b) => a + b, 0);
    expect(counted + identity).toBe(sim.stats.total);
  });

  it('records each run in sync_runs with its counts', async () => {
    const runs = await rows(`select stream, status, requests, pages, rows_fetched, rows_upserted, rows_marked_deleted, error from sync_runs`);
    expect(runs).toHaveLength(outcomes.length);
    const tokens = runs.find((r) => r.stream === 'user-tokens:default')!;
    const n = sim.world.userTokens.length;
    expect(tokens).toMatchObject({ status: 'succeeded', requests: 3, pages: 3, rows_fetched: n, rows_upserted: n, rows_marked_deleted: 0, error: null });
    for (const r of runs) expect(r.status).toBe('succeeded');
    const states = await rows(`select stream, last_success_at, last_error from sync_state`);
    expect(states).toHaveLength(outcomes.length);
    for (const s of states) expect([s.last_success_at instanceof Date, s.last_error]).toEqual([true, null]);
  });

  it('stores the user behind the credential', async () => {
    const [user, ...more] = await rows(`select * from users`);
    expect(more).toEqual([]);
    expect(user).toMatchObject({ id: sim.world.user.id, email: sim.world.user.email, two_factor_enabled: true, suspended: false });
    expect(user!.raw).toEqual(viaJson(sim.world.user));
  });

  it('stores every account with its settings', async () => {
    const stored = await rows(`select * from accounts order by id`);
    expect(ids(stored as never)).toEqual(ids(sim.world.accounts));
    const world = byId(sim.world.accounts);
    for (const a of stored) {
      const src = world.get(a.id as string)!;
      expect(a).toMatchObject({ name: src.name, type: src.type, enforce_twofactor: src.settings.enforce_twofactor, deleted_at: null });
      expect((a.created_on as Date).toISOString()).toBe(new Date(src.created_on).toISOString());
      expect(a.raw).toEqual(viaJson(src));
    }
    // The seeded world has both settings, so the column is not constant by accident.
    expect(new Set(stored.map((a) => a.enforce_twofactor))).toEqual(new Set([true, false]));
  });

  it('stores user tokens (expired ones included) and account tokens, each with its owner', async () => {
    const user = await rows(`select * from api_tokens where owner_type = 'user'`);
    expect(ids(user as never)).toEqual(ids(sim.world.userTokens));
    expect(user.every((t) => t.account_id === null)).toBe(true);
    expect(user.filter((t) => t.status === 'expired').length).toBeGreaterThan(5);
    for (const a of sim.world.accounts) {
      const acct = await rows(`select * from api_tokens where owner_type = 'account' and account_id = $1`, [a.id]);
      expect(ids(acct as never)).toEqual(ids(sim.world.accountTokens(a.id)));
    }
    const total = sim.world.userTokens.length + sim.world.accounts.reduce((s, a) => s + sim.world.accountTokens(a.id).length, 0);
    expect(Number((await rows(`select count(*) as n from api_tokens`))[0]!.n)).toBe(total);
  });

  it('maps token fields: status, dates, IP conditions, policies; raw is the API object', async () => {
    const world = byId([...sim.world.userTokens, ...sim.world.accounts.flatMap((a) => sim.world.accountTokens(a.id))]);
    const stored = await rows(`select * from api_tokens`);
    const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v);
    const sec = (v: string | undefined) => (v === undefined ? null : new Date(v).toISOString());
    for (const t of stored) {
      const src = world.get(t.id as string)!;
      expect(t.status).toBe(src.status);
      expect(iso(t.expires_on)).toBe(sec(src.expires_on));
      expect(iso(t.issued_on)).toBe(sec(src.issued_on));
      expect(iso(t.last_used_on)).toBe(sec(src.last_used_on));
      expect(iso(t.not_before)).toBe(sec(src.not_before));
      expect(t.ip_allow).toEqual(src.condition?.request_ip?.in ?? null);
      expect(t.ip_deny).toEqual(src.condition?.request_ip?.not_in ?? null);
      expect(t.policies).toEqual(viaJson(src.policies));
      const { value: _secret, ...served } = src as typeof src & { value?: string };
      expect(t.raw).toEqual(viaJson(served));
    }
    // The shapes cover each case, so a mapping that always returned null would fail above.
    expect(stored.some((t) => Array.isArray(t.ip_allow) && (t.ip_allow as string[]).includes('192.0.2.0/24'))).toBe(true);
    expect(stored.some((t) => Array.isArray(t.ip_deny))).toBe(true);
    expect(stored.some((t) => t.expires_on !== null) && stored.some((t) => t.expires_on === null)).toBe(true);
    expect(new Set(stored.map((t) => t.status))).toEqual(new Set(['active', 'expired', 'disabled']));
  });

  it('never stores a token secret, even when an endpoint sends one', async () => {
    const [echo] = await rows(`select raw from api_tokens where name = 'echoes its secret'`);
    expect(echo!.raw).not.toHaveProperty('value');
    for (const table of await publicTables(db.pool)) {
      const { rows: hits } = await db.pool.query(`select 1 from ${table} t where t::text like $1`, [`%${SECRET_VALUE}%`]);
      expect(hits, table).toEqual([]);
    }
  });

  it('stores members per account with 2FA, status and role names', async () => {
    for (const a of sim.world.accounts) {
      const stored = await rows(`select * from account_members where account_id = $1`, [a.id]);
      const world = sim.world.members(a.id);
      expect(ids(stored as never)).toEqual(ids(world));
      const src = byId(world);
      for (const m of stored) {
        const w = src.get(m.id as string)!;
        expect(m).toMatchObject({
          user_id: w.user.id, email: w.user.email, status: w.status, two_factor_enabled: w.user.two_factor_authentication_enabled,
          role_names: w.roles.map((r) => r.name), role_ids: w.roles.map((r) => r.id),
        });
        expect(m.raw).toEqual(viaJson(w));
      }
      expect(new Set(stored.map((m) => m.status))).toEqual(new Set(['accepted', 'pending']));
      expect(new Set(stored.map((m) => m.two_factor_enabled))).toEqual(new Set([true, false]));
      expect(stored.some((m) => (m.role_names as string[]).length === 0)).toBe(true);
    }
    expect(Number((await rows(`select count(*) as n from account_members`))[0]!.n)).toBe(3 * SIZE.membersPerAccount);
  });

  it('stores roles and permission groups per source', async () => {
    for (const a of sim.world.accounts) {
      const roles = await rows(`select * from account_roles where account_id = $1`, [a.id]);
      expect(ids(roles as never)).toEqual(ids([...sim.world.roles(a.id)]));
      const src = byId([...sim.world.roles(a.id)]);
      for (const r of roles) expect([r.name, r.raw]).toEqual([src.get(r.id as string)!.name, viaJson(src.get(r.id as string))]);
      const groups = await rows(`select * from permission_groups where source = $1`, [a.id]);
      expect(ids(groups as never)).toEqual(ids(sim.world.accountPermissionGroups(a.id)));
    }
    const userGroups = await rows(`select * from permission_groups where source = 'user'`);
    expect(ids(userGroups as never)).toEqual(ids([...sim.world.permissionGroups]));
    const src = byId([...sim.world.permissionGroups]);
    for (const g of userGroups) {
      expect(g.raw).toEqual(viaJson(src.get(g.id as string)));
      expect(g.scopes).toEqual(src.get(g.id as string)!.scopes);
    }
    const sources = await rows(`select source, count(*)::int as n from permission_groups group by source`);
    expect(sources).toHaveLength(1 + sim.world.accounts.length);
  });

  it('stores invites, organizations, subscriptions, billing history and IP access rules', async () => {
    const w = sim.world;
    const cases: Array<[string, Array<Record<string, unknown> & { id: string }>]> = [
      ['user_invites', w.userInvites as never],
      ['user_organizations', w.organizations as never],
      ['billing_history', w.billingHistory as never],
      ['ip_access_rules', w.ipAccessRules as never],
      [`subscriptions where owner_type = 'user'`, w.userSubscriptions as never],
      ...w.accounts.map((a): [string, never] => [`subscriptions where owner_type = 'account' and account_id = '${a.id}'`, w.accountSubscriptions(a.id) as never]),
    ];
    for (const [from, items] of cases) {
      const stored = await rows(`select * from ${from}`);
      expect(ids(stored as never), from).toEqual(ids(items));
      const src = byId(items);
      for (const r of stored) expect(r.raw, from).toEqual(viaJson(src.get(r.id as string)));
    }
    const invite = (await rows(`select * from user_invites where id = $1`, [w.userInvites[0]!.id]))[0]!;
    const wi = w.userInvites[0] as Record<string, unknown>;
    expect(invite).toMatchObject({ organization_id: wi.organization_id, status: wi.status, organization_enforces_twofactor: wi.organization_is_enforcing_twofactor });
    const rule = (await rows(`select * from ip_access_rules where id = $1`, [w.ipAccessRules[0]!.id]))[0]!;
    const wr = w.ipAccessRules[0] as { mode: string; configuration: { target: string; value: string } };
    expect(rule).toMatchObject({ mode: wr.mode, target: wr.configuration.target, value: wr.configuration.value });
    const bill = (await rows(`select * from billing_history where id = $1`, [w.billingHistory[0]!.id]))[0]!;
    expect(Number(bill.amount)).toBe((w.billingHistory[0] as { amount: number }).amount);
    expect(Number((await rows(`select count(*) as n from subscriptions`))[0]!.n)).toBe(w.userSubscriptions.length + 3 * w.accounts.length);
  });

  it('marks nothing deleted on a first sync', async () => {
    for (const table of ['accounts', 'api_tokens', 'account_members', 'account_roles', 'permission_groups', 'user_invites', 'user_organizations', 'subscriptions', 'billing_history', 'ip_access_rules', 'users']) {
      const { rows: deleted } = await db.pool.query(`select 1 from ${table} where deleted_at is not null`);
      expect(deleted, table).toEqual([]);
    }
  });
});
