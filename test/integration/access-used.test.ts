import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/rules/engine.js';
import { BUILTIN_RULES } from '../../src/rules/catalog.js';
import { tokenUnusedWriteAccess } from '../../src/rules/token-unused-write-access.js';
import { groupByName, PERMISSION_GROUPS } from '../../src/simulator/catalog.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { TokenPolicy } from '../../src/simulator/tokens.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';
import { DAY_MS, daysFromNow, evaluate, hitOf, keysOf } from '../helpers/rules.js';

// Access actually used (issue 18, item 5): access_used() over the archived audit log v2, and the
// rule token-unused-write-access with the narrowed policies it suggests. The world's audit log
// holds only the writes below, appended to the simulator's v2 stream and archived through a real sync.

const ACCOUNT = 'com.cloudflare.api.account';
const ZONE = 'com.cloudflare.api.account.zone';
const ago = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let account: string;
let zone: string;
const ids: Record<string, string> = {};
/** Event time of each fixture entry, by id. */
const times: Record<string, string> = {};
const key = (label: string) => `token:${ids[label]!}`;

const policy = (groups: string[], resources: TokenPolicy['resources'], effect: 'allow' | 'deny' = 'allow'): TokenPolicy =>
  ({ id: `p-${groups.join('-')}`, effect, permission_groups: groups.map((n) => ({ id: groupByName(n).id, name: n })), resources });
const apiGroups = (...names: string[]) => names.map((n) => ({ id: groupByName(n).id, name: n }));

type Kind = 'dns' | 'zone-setting' | 'worker' | 'unmapped';
const KINDS: Record<Kind, (a: string, z: string) => { product: string; type: string; uri: string; zone?: boolean }> = {
  dns: (_a, z) => ({ product: 'dns_records', type: 'dns_record', uri: `/client/v4/zones/${z}/dns_records/0123456789abcdef0123456789abcdef`, zone: true }),
  'zone-setting': (_a, z) => ({ product: 'Zone Settings', type: 'zone_setting', uri: `/client/v4/zones/${z}/settings/min_tls_version`, zone: true }),
  worker: (a) => ({ product: 'Workers', type: 'script', uri: `/client/v4/accounts/${a}/workers/scripts/api-router` }),
  unmapped: (a) => ({ product: 'Magic Transit', type: 'gre_tunnel', uri: `/client/v4/accounts/${a}/magic/gre_tunnels` }),
};

/** One v2 write, every field the mapping reads set explicitly (the generator would otherwise fill in random ones). */
function write(id: string, daysAgo: number, kind: Kind, by: { token?: string; email?: string }) {
  const k = KINDS[kind](account, zone);
  const token = by.token ? { token_id: ids[by.token]!, token_name: by.token } : { token_id: null, token_name: null };
  times[id] = ago(daysAgo);
  return {
    id, time: times[id],
    action: { type: 'update', result: 'success', description: `${kind} changed` },
    actor: { id: `user-${by.email ?? 'ci'}`, email: by.email ?? 'ci@example.com', ip_address: '192.0.2.10', type: 'user', context: by.token ? 'api_token' : 'dash', ...token },
    raw: { method: 'PUT', uri: k.uri, status_code: 200 },
    resource: { id: `r-${id}`, product: k.product, type: k.type, request: {}, response: {} },
    zone: k.zone ? { id: zone, name: 'example.com' } : {},
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({
    seed: 18, rateLimit: false,
    size: { accounts: 1, userTokens: 0, accountTokensPerAccount: 0, membersPerAccount: 1, userInvites: 0, accountAuditEntries: 0, accountAuditV1Entries: 0, userAuditEntries: 0 },
  });
  const w = sim.world;
  account = w.accounts[0]!.id;
  zone = w.zones.get(account)![0]!.id;
  const old = { status: 'active' as const, issued_on: daysFromNow(-200), modified_on: daysFromNow(-200), last_used_on: daysFromNow(-1) };
  // The credential reads only: never a finding.
  w.updateToken(w.credentialTokenId, { ...old, policies: [policy(['Zone Read'], { [`${ZONE}.*`]: '*' })] });
  const add = (label: string, policies: TokenPolicy[], patch: Record<string, string> = {}) => {
    ids[label] = w.addAccountToken(account, { ...old, name: label, policies, ...patch }).id;
  };
  add('dns-only', [policy(['DNS Write', 'Zone Settings Write', 'Zone Read'], { [`${ZONE}.${zone}`]: '*' }), policy(['Workers Scripts Write'], { [`${ACCOUNT}.${account}`]: '*' })]);
  add('all-used', [policy(['DNS Write'], { [`${ZONE}.${zone}`]: '*' }), policy(['Workers Scripts Write'], { [`${ACCOUNT}.${account}`]: '*' })]);
  add('read-only', [policy(['Zone Read', 'DNS Read', 'Workers Scripts Read'], { [`${ACCOUNT}.${account}`]: { [`${ZONE}.*`]: '*' } })]);
  add('young', [policy(['DNS Write', 'Zone Settings Write'], { [`${ZONE}.${zone}`]: '*' })], { issued_on: daysFromNow(-10), modified_on: daysFromNow(-10) });
  add('unmapped', [policy(['DNS Write', 'Workers Scripts Write'], { [`${ACCOUNT}.${account}`]: '*' })]);
  add('used-long-ago', [policy(['DNS Write', 'Zone Settings Write'], { [`${ZONE}.${zone}`]: '*' })]);
  ids['user-level'] = w.addUserToken({ ...old, name: 'user-level', policies: [
    policy(['API Tokens Write'], { [`com.cloudflare.api.user.${w.users[0]!.user.id}`]: '*' }), policy(['DNS Write'], { [`${ZONE}.${zone}`]: '*' })] }).id;
  w.auditStream('account-v2', account).append([
    // The Done-when case: DNS record writes only, spread over the 90 days.
    write('dns-1', 85, 'dns', { token: 'dns-only' }), write('dns-2', 40, 'dns', { token: 'dns-only' }), write('dns-3', 2, 'dns', { token: 'dns-only' }),
    write('all-1', 60, 'dns', { token: 'all-used' }), write('all-2', 3, 'worker', { token: 'all-used' }),
    write('young-1', 5, 'dns', { token: 'young' }),
    write('unm-1', 30, 'dns', { token: 'unmapped' }), write('unm-2', 20, 'unmapped', { token: 'unmapped' }),
    // A zone-setting write older than the window is no evidence of use now.
    write('old-1', 100, 'zone-setting', { token: 'used-long-ago' }), write('old-2', 3, 'dns', { token: 'used-long-ago' }),
    write('user-1', 10, 'dns', { token: 'user-level' }),
    // A member acting as themselves in the dashboard.
    write('alice-1', 3, 'zone-setting', { email: 'alice@example.com' }), write('alice-2', 50, 'dns', { email: 'alice@example.com' }),
  ]);
  ctx = testContext(db, sim);
  const outcomes = await syncAll(ctx, { streams: [...INVENTORY_KINDS, 'account-audit'] });
  expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

const env = () => ({ db: db.db, config: ctx.config });
const sql = async <T>(text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows as T[];

describe('the audit → permission group mapping (audit_permission_map)', () => {
  it('names only permission groups that exist, and every condition it sets is usable', async () => {
    const rows = await sql<{ id: string; permission_groups: string[]; product: string | null; resource_type: string | null; uri_pattern: string | null }>(
      `select id, permission_groups, product, resource_type, uri_pattern from audit_permission_map where source = 'builtin'`);
    expect(rows.length).toBeGreaterThan(20);
    const known = new Set(PERMISSION_GROUPS.map((g) => g.name));
    expect(rows.flatMap((r) => r.permission_groups.filter((g) => !known.has(g)).map((g) => `${r.id}: ${g}`))).toEqual([]);
    for (const r of rows.filter((x) => x.uri_pattern)) expect(() => new RegExp(r.uri_pattern!), r.id).not.toThrow();
  });

  it('refuses a row that could never match or names no group, with the constraint that says why', async () => {
    await expect(sql(`insert into audit_permission_map (id, permission_groups) values ('nothing', '{DNS Write}')`)).rejects.toThrow(/audit_permission_map_condition_check/);
    await expect(sql(`insert into audit_permission_map (id, product, permission_groups) values ('no-groups', 'dns_records', '{}')`)).rejects.toThrow(/audit_permission_map_groups_check/);
    await expect(sql(`insert into audit_permission_map (id, uri_pattern, permission_groups) values ('bad-re', '/zones/(', '{DNS Write}')`)).rejects.toThrow(/invalid regular expression/);
    await expect(sql(`insert into audit_permission_map (id, product, permission_groups) values ('unnormalised', 'DNS Records', '{DNS Write}')`)).rejects.toThrow(/audit_permission_map_product_check/);
  });
});

describe('the mapping against every kind of write the simulator generates', () => {
  it('maps each one (the API token writes through their request path), and ignores sign-ins', async () => {
    const gen = await startSimulator({ seed: 5, rateLimit: false, size: { accounts: 1, userTokens: 2, accountTokensPerAccount: 3, membersPerAccount: 4, userInvites: 0, accountAuditEntries: 400, accountAuditV1Entries: 0, userAuditEntries: 0, auditDays: 30 } });
    const genDb = await createTestDatabase();
    try {
      const outcomes = await syncAll(testContext(genDb, gen), { streams: ['account-audit'] });
      expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
      // Each generated write maps to one group, so the counts add up to the archive's writes. Nulls first: a write no mapping row matches would show as the first row.
      const rows = (await genDb.pool.query(`select permission_group, sum(writes)::int as writes from access_used(90) group by 1 order by 1 nulls first`))
        .rows as Array<{ permission_group: string | null; writes: number }>;
      expect(rows.map((r) => r.permission_group)).toEqual(['Account API Tokens Write', 'Account Settings Write', 'DNS Write', 'Firewall Services Write', 'Workers Scripts Write', 'Zone Settings Write']);
      const archived = (await genDb.pool.query(`select count(*)::int as n from audit_logs where action_type <> 'login'`)).rows[0] as { n: number };
      expect(rows.reduce((s, r) => s + r.writes, 0)).toBe(archived.n);
    } finally {
      await gen.close();
      await genDb.drop();
    }
  });
});

describe('access_used(days)', () => {
  it('per token: the groups its writes exercised in the window, counted, with the last use', async () => {
    const rows = await sql<{ permission_group: string | null; writes: string; last_used_at: Date }>(
      `select permission_group, writes, last_used_at from access_used(90) where principal_type = 'token' and principal_id = $1`, [ids['dns-only']]);
    expect(rows.map((r) => [r.permission_group, Number(r.writes)])).toEqual([['DNS Write', 3]]);
    expect(rows[0]!.last_used_at.toISOString()).toBe(times['dns-3']);
  });

  it('a write older than the window does not count', async () => {
    const rows = await sql<{ permission_group: string }>(`select permission_group from access_used(90) where principal_id = $1 order by 1`, [ids['used-long-ago']]);
    expect(rows.map((r) => r.permission_group)).toEqual(['DNS Write']);
    const wider = await sql<{ permission_group: string }>(`select permission_group from access_used(120) where principal_id = $1 order by 1`, [ids['used-long-ago']]);
    expect(wider.map((r) => r.permission_group)).toEqual(['DNS Write', 'Zone Settings Write']);
  });

  it('a write no mapping row matches is counted on a row of its own (permission_group null), never dropped', async () => {
    const rows = await sql<{ permission_group: string | null; writes: string; actions: string[] }>(
      `select permission_group, writes, actions from access_used(90) where principal_id = $1 order by permission_group nulls last`, [ids.unmapped]);
    expect(rows.map((r) => [r.permission_group, Number(r.writes), r.actions])).toEqual([['DNS Write', 1, ['dns_records/dns_record/update']], [null, 1, ['magic_transit/gre_tunnel/update']]]);
  });

  it('a member acting as themselves: their own exercised groups, not the tokens\' writes', async () => {
    const rows = await sql<{ principal_id: string; principal_name: string; permission_group: string; writes: string }>(
      `select principal_id, principal_name, permission_group, writes from access_used(90) where principal_type = 'member' order by permission_group`);
    expect(rows.map((r) => [r.principal_id, r.principal_name, r.permission_group, Number(r.writes)])).toEqual([
      ['user-alice@example.com', 'alice@example.com', 'DNS Write', 1], ['user-alice@example.com', 'alice@example.com', 'Zone Settings Write', 1]]);
  });

  it('the archive\'s v2 coverage of the account: from the first walk\'s start to the watermark', async () => {
    const [c] = await sql<{ covered_from: Date; covered_to: Date; covered_from_source: string; gap_days: string[] }>(
      `select covered_from, covered_to, covered_from_source, gap_days from audit_v2_coverage where account_id = $1`, [account]);
    expect(c!.covered_from_source).toBe('walk_start');
    expect(c!.covered_from.getTime()).toBeLessThan(Date.now() - 365 * DAY_MS);
    expect(c!.covered_to.getTime()).toBeGreaterThan(Date.now() - DAY_MS);
    expect(c!.gap_days).toEqual([]);
  });
});

describe('token-unused-write-access', () => {
  it('is registered, and needs the audit archive', () => {
    expect(BUILTIN_RULES.map((r) => r.id)).toContain('token-unused-write-access');
    expect(tokenUnusedWriteAccess.requires).toEqual(['audit_logs']);
  });

  it('a token used only for DNS writes for 90 days: one finding whose suggested policies keep DNS Write and Zone Read and drop the rest', async () => {
    const hits = await evaluate(tokenUnusedWriteAccess, env());
    expect(keysOf(hits)).toEqual([key('dns-only'), key('unmapped'), key('used-long-ago')].sort());
    const hit = hitOf(hits, key('dns-only'));
    expect(hit.facts.unused_write_groups).toEqual(['Zone Settings Write', 'Workers Scripts Write']);
    expect(hit.facts.suggestedPolicies).toEqual([{ effect: 'allow', permission_groups: apiGroups('DNS Write', 'Zone Read'), resources: { [`${ZONE}.${zone}`]: '*' } }]);
    expect(hit.facts.used_write_groups).toEqual([{ group: 'DNS Write', writes: 3, last_used_at: expect.any(String) }]);
    expect(hit.facts.summary).toMatch(/^grants write access to Zone Settings Write, Workers Scripts Write, not used in 90 days \(audit log v2, /);
    expect(hit.facts.summary).toContain('GET requests are not logged');
    expect(hit.facts.evidence).toEqual({ source: 'account audit log v2', from: ago(90).slice(0, 10), to: expect.stringMatching(/^\d{4}-\d\d-\d\d$/), accounts: [account] });
    expect(hit).toMatchObject({ resourceType: 'token', accountId: account, facts: { window_days: 90, unmapped_writes: { writes: 0, actions: [] } } });
  });

  it('no finding for a token that used all its write groups, one with read groups only, one issued 10 days ago, or one whose other write access is user-level', async () => {
    const keys = keysOf(await evaluate(tokenUnusedWriteAccess, env()));
    for (const label of ['all-used', 'read-only', 'young', 'user-level']) expect(keys, label).not.toContain(key(label));
  });

  it('writes that map to no group: the finding reports them and withholds the narrowed policies', async () => {
    const hit = hitOf(await evaluate(tokenUnusedWriteAccess, env()), key('unmapped'));
    expect(hit.facts).toMatchObject({ unused_write_groups: ['Workers Scripts Write'], suggestedPolicies: null, unmapped_writes: { writes: 1, actions: ['magic_transit/gre_tunnel/update'] } });
    expect(hit.facts.suggestedPoliciesWithheld).toMatch(/1 write\(s\) in the window map to no permission group/);
  });

  it('a shorter window setting judges the shorter span', async () => {
    const hits = await evaluate(tokenUnusedWriteAccess, env(), { days: 30 });
    // dns-only wrote DNS 2 days ago; unmapped's DNS write is 30 days old, outside a 30-day window.
    expect(hitOf(hits, key('unmapped')).facts.unused_write_groups).toEqual(['DNS Write', 'Workers Scripts Write']);
    expect(hitOf(hits, key('dns-only')).facts).toMatchObject({ window_days: 30, unused_write_groups: ['Zone Settings Write', 'Workers Scripts Write'] });
  });
});

describe('token-unused-write-access in a check run', () => {
  it('stores the finding with suggestedPolicies as JSON ready to PUT, through the engine like every rule', async () => {
    const result = await runChecks(ctx, { rules: [tokenUnusedWriteAccess] });
    expect(result.outcomes.map((o) => [o.ruleId, o.status])).toEqual([['token-unused-write-access', 'succeeded']]);
    const [f] = await sql<{ facts: Record<string, unknown>; resource_type: string; account_id: string }>(
      `select facts, resource_type, account_id from findings where rule_id = 'token-unused-write-access' and resource_key = $1`, [key('dns-only')]);
    expect(f!.facts.suggestedPolicies).toEqual([{ effect: 'allow', permission_groups: apiGroups('DNS Write', 'Zone Read'), resources: { [`${ZONE}.${zone}`]: '*' } }]);
    expect([f!.resource_type, f!.account_id]).toEqual(['token', account]);
  });
});

describe('token-unused-write-access: the archive must cover the whole window', () => {
  const stream = () => `account-audit:${account}`;
  const checkpoint = async () => (await sql<{ checkpoint: Record<string, string> }>(`select checkpoint from sync_state where stream = $1`, [stream()]))[0]!.checkpoint;

  it('a day audit verify found entries missing on, inside the window: no finding until it is repaired', async () => {
    await sql(`insert into audit_verifications (stream, day, archived, api, missing, status, verified_at) values ($1, $2, 10, 11, 1, 'gap', now())`, [stream(), ago(20).slice(0, 10)]);
    try {
      expect(await evaluate(tokenUnusedWriteAccess, env())).toEqual([]);
      await sql(`update audit_verifications set status = 'repaired', repaired_at = now() where stream = $1`, [stream()]);
      expect(keysOf(await evaluate(tokenUnusedWriteAccess, env()))).toContain(key('dns-only'));
    } finally {
      await sql(`delete from audit_verifications where stream = $1`, [stream()]);
    }
  });

  it('an archive that stopped days ago speaks for no window ending now', async () => {
    const saved = await checkpoint();
    await sql(`update sync_state set checkpoint = jsonb_set(checkpoint, '{watermark}', to_jsonb($2::text)) where stream = $1`, [stream(), ago(3)]);
    try {
      expect(await evaluate(tokenUnusedWriteAccess, env())).toEqual([]);
    } finally {
      await sql(`update sync_state set checkpoint = $2 where stream = $1`, [stream(), saved]);
    }
  });

  it('a checkpoint from before the walk start was kept: coverage from the earliest archived entry, a bound that never overstates', async () => {
    const saved = await checkpoint();
    await sql(`update sync_state set checkpoint = checkpoint - 'from' where stream = $1`, [stream()]);
    try {
      const [c] = await sql<{ covered_from: Date; covered_from_source: string }>(`select covered_from, covered_from_source from audit_v2_coverage where account_id = $1`, [account]);
      expect([c!.covered_from_source, c!.covered_from.getTime()]).toEqual(['first_entry', Date.parse(times['old-1']!)]);
      // 100 days of entries cover a 90-day window, not a 120-day one.
      expect(keysOf(await evaluate(tokenUnusedWriteAccess, env()))).toContain(key('dns-only'));
      expect(await evaluate(tokenUnusedWriteAccess, env(), { days: 120 })).toEqual([]);
    } finally {
      await sql(`update sync_state set checkpoint = $2 where stream = $1`, [stream(), saved]);
    }
  });

  it('a stream that started 10 days ago (audit.since): no 90-day finding; a 7-day window is covered', async () => {
    const short = await createTestDatabase();
    try {
      const since = ago(10);
      const shortCtx = testContext(short, sim, { FLAREWATCH_AUDIT_SINCE: since });
      const outcomes = await syncAll(shortCtx, { streams: [...INVENTORY_KINDS, 'account-audit'] });
      expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
      const [c] = (await short.pool.query(`select covered_from from audit_v2_coverage where account_id = $1`, [account])).rows as Array<{ covered_from: Date }>;
      expect(c!.covered_from.toISOString()).toBe(new Date(since).toISOString());
      const shortEnv = { db: short.db, config: shortCtx.config };
      expect(await evaluate(tokenUnusedWriteAccess, shortEnv)).toEqual([]);
      expect(keysOf(await evaluate(tokenUnusedWriteAccess, shortEnv, { days: 7 }))).toContain(key('dns-only'));
    } finally {
      await short.drop();
    }
  });
});
