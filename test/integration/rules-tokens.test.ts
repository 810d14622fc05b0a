import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assessPolicies } from '../../src/rules/policy-model.js';
import { tokenBroadPolicy } from '../../src/rules/token-broad-policy.js';
import { tokenExpiredPresent } from '../../src/rules/token-expired-present.js';
import { tokenExpiring } from '../../src/rules/token-expiring.js';
import { tokenMisconfigured } from '../../src/rules/token-misconfigured.js';
import { tokenNeverUsed } from '../../src/rules/token-never-used.js';
import { tokenNoExpiry } from '../../src/rules/token-no-expiry.js';
import { tokenNoIpRestriction } from '../../src/rules/token-no-ip-restriction.js';
import { tokenNotRotated } from '../../src/rules/token-not-rotated.js';
import { tokenUnused } from '../../src/rules/token-unused.js';
import { BUILTIN_RULES } from '../../src/rules/catalog.js';
import { groupByName } from '../../src/simulator/catalog.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { Token, TokenPolicy } from '../../src/simulator/tokens.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';
import { daysFromNow, evaluate, hitOf, keysOf } from '../helpers/rules.js';

const ACCOUNT = 'com.cloudflare.api.account';
const ZONE = 'com.cloudflare.api.account.zone';

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
/** Fixture token ids by label. */
const ids: Record<string, string> = {};
const key = (label: string) => `token:${ids[label]!}`;
const keys = (...labels: string[]) => labels.map(key).sort();

const policy = (effect: 'allow' | 'deny', groups: string[], resources: TokenPolicy['resources']): TokenPolicy =>
  ({ id: `p-${groups.join('-')}`, effect, permission_groups: groups.map((n) => ({ id: groupByName(n).id, name: n })), resources });

/** A token no rule should flag: narrow, IP-restricted, expiring, recently used and issued. Fixtures override one thing. */
function clean(accountId: string, zoneId: string): Partial<Token> {
  return {
    status: 'active', issued_on: daysFromNow(-10), modified_on: daysFromNow(-10), last_used_on: daysFromNow(-1), expires_on: daysFromNow(200),
    condition: { request_ip: { in: ['192.0.2.0/24'] } },
    policies: [policy('allow', ['DNS Read'], { [`${ZONE}.${zoneId}`]: '*' })],
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  // The smallest world: one generated user token (the credential's), pinned clean below; no account tokens.
  sim = await startSimulator({ seed: 11, size: { accounts: 2, userTokens: 0, accountTokensPerAccount: 0, membersPerAccount: 1, userInvites: 0 }, rateLimit: false });
  const w = sim.world;
  const account = w.accounts[0]!.id;
  const zone = w.zones.get(account)![0]!.id;
  const base = clean(account, zone);
  w.updateToken(w.credentialTokenId, { ...base, name: 'credential' });
  ids.credential = w.credentialTokenId;
  // Each fixture is user-owned unless its label says acct-; it is `base` with the one property under test changed.
  const add = (label: string, patch: Partial<Token>, owner: 'user' | 'account' = 'user') => {
    const t = owner === 'user' ? w.addUserToken({ ...base, name: label, ...patch }) : w.addAccountToken(account, { ...base, name: label, ...patch });
    ids[label] = t.id;
  };
  add('clean', {});
  add('clean-acct', {}, 'account');
  // expiry
  add('exp-20d', { expires_on: daysFromNow(20) });
  add('exp-5d', { expires_on: daysFromNow(5) }, 'account');
  add('exp-12h', { expires_on: daysFromNow(0.5) });
  add('exp-60d', { expires_on: daysFromNow(60) });
  add('expired-status', {});
  w.expireToken(ids['expired-status']!);
  add('expired-by-date', { expires_on: daysFromNow(-2) });
  add('no-expiry', { expires_on: undefined });
  add('disabled-no-expiry', { status: 'disabled', expires_on: undefined });
  // policies
  add('broad-all-zones-write', { policies: [policy('allow', ['Zone Write', 'DNS Read'], { [`${ZONE}.*`]: '*' })] });
  add('broad-nested-purge', { policies: [policy('allow', ['Cache Purge'], { [`${ACCOUNT}.${account}`]: { [`${ZONE}.*`]: '*' } })] }, 'account');
  add('broad-all-accounts', { policies: [policy('allow', ['Workers Scripts Write'], { [`${ACCOUNT}.*`]: '*' })] });
  add('sensitive-one-account', { policies: [policy('allow', ['Account API Tokens Write'], { [`${ACCOUNT}.${account}`]: '*' })] }, 'account');
  // Only the id: the name comes from the synced permission_groups table.
  add('sensitive-by-id', { policies: [{ id: 'p-id', effect: 'allow', permission_groups: [{ id: groupByName('Account Settings Write').id } as never], resources: { [`${ACCOUNT}.${account}`]: '*' } }] });
  add('read-all-zones', { policies: [policy('allow', ['Zone Read', 'Analytics Read'], { [`${ZONE}.*`]: '*' })] });
  add('write-one-zone', { policies: [policy('allow', ['DNS Write'], { [`${ZONE}.${zone}`]: '*' })] });
  add('deny-sensitive', { policies: [policy('allow', ['DNS Read'], { [`${ZONE}.${zone}`]: '*' }), policy('deny', ['Billing Write'], { [`${ACCOUNT}.${account}`]: '*' })] });
  add('disabled-broad', { status: 'disabled', policies: [policy('allow', ['Zone Write'], { [`${ZONE}.*`]: '*' })] });
  // client IP
  add('no-ip', { condition: undefined });
  add('ip-deny-only', { condition: { request_ip: { not_in: ['203.0.113.0/24'] } } }, 'account');
  // use and age
  add('unused-120d', { last_used_on: daysFromNow(-120), issued_on: daysFromNow(-200), modified_on: daysFromNow(-200) });
  add('used-60d', { last_used_on: daysFromNow(-60), issued_on: daysFromNow(-200), modified_on: daysFromNow(-200) });
  add('never-used-45d', { last_used_on: undefined, issued_on: daysFromNow(-45), modified_on: daysFromNow(-45) });
  add('never-used-5d', { last_used_on: undefined, issued_on: daysFromNow(-5), modified_on: daysFromNow(-5) });
  add('not-rotated', { issued_on: daysFromNow(-500), modified_on: daysFromNow(-400) });
  add('rolled', { issued_on: daysFromNow(-500), modified_on: daysFromNow(-30) });
  // misconfigured
  add('not-before-30d', { not_before: daysFromNow(30) });
  add('not-before-3d', { not_before: daysFromNow(3) });
  add('deny-only', { policies: [policy('deny', ['Billing Write', 'Billing Read'], { [`${ACCOUNT}.${account}`]: '*' })] });
  ctx = testContext(db, sim);
  const outcomes = await syncAll(ctx, { streams: INVENTORY_KINDS });
  expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

const env = () => ({ db: db.db, config: ctx.config });

describe('token expiry rules', () => {
  it('token-expiring: tokens inside the 30/7/1-day windows, severity rising as expiry nears', async () => {
    const hits = await evaluate(tokenExpiring, env());
    expect(keysOf(hits)).toEqual(keys('exp-20d', 'exp-5d', 'exp-12h'));
    expect(hitOf(hits, key('exp-20d'))).toMatchObject({ severity: 'low', facts: { days_left: 19, window_days: 30, owner_type: 'user' } });
    expect(hitOf(hits, key('exp-5d'))).toMatchObject({ severity: 'medium', accountId: sim.world.accounts[0]!.id, facts: { window_days: 7, owner_type: 'account' } });
    expect(hitOf(hits, key('exp-12h'))).toMatchObject({ severity: 'high', facts: { days_left: 0, window_days: 1 } });
  });

  it('token-expiring: the narrowest tier a token falls in sets the severity, whatever order the tiers are written in', async () => {
    const hits = await evaluate(tokenExpiring, env(), { tiers: [{ days: 1, severity: 'high' }, { days: 30, severity: 'low' }, { days: '7', severity: 'medium' }] });
    expect(hits.map((h) => [h.resourceKey, h.severity, h.facts.window_days])).toEqual([[key('exp-12h'), 'high', 1], [key('exp-5d'), 'medium', 7], [key('exp-20d'), 'low', 30]]);
    const split = await evaluate(tokenExpiring, env(), { tiers: [{ days: 30, severity: 'low' }, { days: 0.25, severity: 'critical' }] });
    expect(hitOf(split, key('exp-12h'))).toMatchObject({ severity: 'low', facts: { window_days: 30 } });
  });

  it('token-expiring: tiers come from thresholds', async () => {
    const hits = await evaluate(tokenExpiring, env(), { tiers: [{ days: 90, severity: 'medium' }, { days: 10, severity: 'critical' }] });
    expect(keysOf(hits)).toEqual(keys('exp-20d', 'exp-5d', 'exp-12h', 'exp-60d'));
    expect(hitOf(hits, key('exp-60d')).severity).toBe('medium');
    expect(hitOf(hits, key('exp-5d')).severity).toBe('critical');
  });

  it('token-expired-present: status expired or expires_on passed, while still listed', async () => {
    const hits = await evaluate(tokenExpiredPresent, env());
    expect(keysOf(hits)).toEqual(keys('expired-status', 'expired-by-date'));
    expect(hitOf(hits, key('expired-by-date')).facts).toMatchObject({ status: 'active', days_since_expiry: 2 });
  });

  it('token-no-expiry: live tokens without expires_on only (not disabled ones)', async () => {
    expect(keysOf(await evaluate(tokenNoExpiry, env()))).toEqual(keys('no-expiry'));
  });
});

describe('token-broad-policy', () => {
  it('reports broad writes as high and sensitive groups as critical, with the model in the facts', async () => {
    const hits = await evaluate(tokenBroadPolicy, env());
    expect(keysOf(hits)).toEqual(keys('broad-all-zones-write', 'broad-nested-purge', 'broad-all-accounts', 'sensitive-one-account', 'sensitive-by-id'));
    expect(hitOf(hits, key('broad-all-zones-write'))).toMatchObject({
      severity: 'high',
      facts: { verdict: 'broad_write', broad_write_grants: [{ groups: ['Zone Write'], resources: [`${ZONE}.*`] }] },
    });
    expect(hitOf(hits, key('broad-nested-purge'))).toMatchObject({ severity: 'high', facts: { broad_write_grants: [{ groups: ['Cache Purge'], resources: [`${ZONE}.*`] }] } });
    expect(hitOf(hits, key('sensitive-one-account'))).toMatchObject({ severity: 'critical', facts: { verdict: 'sensitive', sensitive_groups: ['Account API Tokens Write'] } });
    expect(hitOf(hits, key('sensitive-by-id'))).toMatchObject({ severity: 'critical', facts: { sensitive_groups: ['Account Settings Write'] } });
    expect(hitOf(hits, key('broad-all-accounts')).facts.policy_model).toMatch(/sensitive = /);
  });

  it('configurable: a group made sensitive by config turns a narrow write critical', async () => {
    const hits = await evaluate(tokenBroadPolicy, env(), { sensitiveGroups: ['DNS Write'] });
    expect(keysOf(hits)).toContain(key('write-one-zone'));
    expect(keysOf(hits)).not.toContain(key('sensitive-one-account'));
  });
});

describe('token usage and configuration rules', () => {
  it('token-no-ip-restriction: no request_ip "in" list (a not_in list alone does not count)', async () => {
    const hits = await evaluate(tokenNoIpRestriction, env());
    expect(keysOf(hits)).toEqual(keys('no-ip', 'ip-deny-only'));
    expect(hitOf(hits, key('ip-deny-only')).facts).toMatchObject({ ip_deny: ['203.0.113.0/24'] });
  });

  it('token-unused: last used more than 90 days ago', async () => {
    const hits = await evaluate(tokenUnused, env());
    expect(keysOf(hits)).toEqual(keys('unused-120d'));
    expect(hitOf(hits, key('unused-120d')).facts).toMatchObject({ days_unused: 120, threshold_days: 90 });
    expect(keysOf(await evaluate(tokenUnused, env(), { days: 30 }))).toEqual(keys('unused-120d', 'used-60d'));
  });

  it('token-never-used: never used and issued more than 30 days ago', async () => {
    const hits = await evaluate(tokenNeverUsed, env());
    expect(keysOf(hits)).toEqual(keys('never-used-45d'));
    expect(hitOf(hits, key('never-used-45d')).facts).toMatchObject({ age_days: 45, age_from: 'issued_on' });
  });

  it('token-not-rotated: issued and modified more than 365 days ago', async () => {
    const hits = await evaluate(tokenNotRotated, env());
    expect(keysOf(hits)).toEqual(keys('not-rotated'));
    expect(hitOf(hits, key('not-rotated')).facts).toMatchObject({ age_days: 400 });
  });

  it('token-misconfigured: not_before far ahead, or only deny policies', async () => {
    const hits = await evaluate(tokenMisconfigured, env());
    expect(keysOf(hits)).toEqual(keys('not-before-30d', 'deny-only'));
    expect(hitOf(hits, key('not-before-30d')).facts.reasons).toEqual(['not_before_far_in_future']);
    expect(hitOf(hits, key('deny-only')).facts.reasons).toEqual(['only_deny_policies']);
  });

  it('clean tokens and the look-alikes trigger no token rule', async () => {
    const all = new Set<string>();
    for (const rule of BUILTIN_RULES.filter((r) => r.id.startsWith('token-'))) for (const k of keysOf(await evaluate(rule, env()))) all.add(k);
    for (const label of ['credential', 'clean', 'clean-acct', 'exp-60d', 'read-all-zones', 'write-one-zone', 'deny-sensitive', 'disabled-broad', 'used-60d', 'never-used-5d', 'rolled', 'not-before-3d']) {
      expect(all.has(key(label)), label).toBe(false);
    }
  });
});

describe('every built-in rule over a generated world', () => {
  let gdb: TestDatabase;
  let gsim: Simulator;
  let gctx: TestContext;

  beforeAll(async () => {
    gdb = await createTestDatabase();
    gsim = await startSimulator({ seed: 3, size: { accountTokensPerAccount: 12 }, rateLimit: false });
    gctx = testContext(gdb, gsim);
    await syncAll(gctx, { streams: [...INVENTORY_KINDS, 'account-audit', 'account-audit-v1', 'user-audit'] });
  });
  afterAll(async () => {
    await gsim?.close();
    await gdb?.drop();
  });

  it('runs, returning unique well-formed keys', async () => {
    for (const rule of BUILTIN_RULES) {
      const hits = await evaluate(rule, { db: gdb.db, config: gctx.config }, rule.id === 'audit-ip-not-allowed' ? { allowedCidrs: ['192.0.2.0/24'] } : {});
      const ks = keysOf(hits);
      expect(new Set(ks).size, rule.id).toBe(ks.length);
      for (const h of hits) {
        // The documented key shapes: state findings name the resource; detections add their window.
        if ((rule.kind ?? 'state') === 'detection') expect(h.resourceKey, rule.id).toMatch(/^(token|actor|ip):.+\|\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
        else expect(h.resourceKey, rule.id).toMatch(/^(token:[^:]+|member:[0-9a-f]{32}:([^:]+|organization-member:[^:]+:[^:]+)|organization-member:[^:]+:[^:]+|group:[0-9a-f]{32}:[^:]+|account:[0-9a-f]{32}|invite:.+)$/);
      }
    }
  });

  it('the SQL filter and the pure policy model agree on every live token', async () => {
    const hits = await evaluate(tokenBroadPolicy, { db: gdb.db, config: gctx.config });
    const { rows } = await gdb.pool.query<{ id: string; policies: unknown }>(
      `select id, policies from api_tokens where deleted_at is null and status = 'active' and (expires_on is null or expires_on > now())`);
    const expected = rows.filter((r) => assessPolicies(r.policies).verdict !== null).map((r) => `token:${r.id}`).sort();
    expect(expected.length).toBeGreaterThan(3);
    expect(keysOf(hits)).toEqual(expected);
  });
});
