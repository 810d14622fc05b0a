import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditAdminMemberAdded } from '../../src/rules/audit-admin-member-added.js';
import { auditFailedLoginBurst } from '../../src/rules/audit-failed-login-burst.js';
import { auditIpNotAllowed } from '../../src/rules/audit-ip-not-allowed.js';
import { auditTokenBroadGrant } from '../../src/rules/audit-token-broad-grant.js';
import { groupByName, roleByName } from '../../src/simulator/catalog.js';
import { startSimulator, type AuditKind, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';
import { evaluate, hitOf, keysOf } from '../helpers/rules.js';

const MIN = 60_000;
const ZONE_ALL = 'com.cloudflare.api.account.zone.*';

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let account: string;
const T = Date.now() - 60 * MIN; // an hour ago: well inside the synced window (which ends 2 minutes before now)
const at = (offsetMin: number) => new Date(T + offsetMin * MIN).toISOString();
/** Minutes around yesterday's UTC midnight: a burst there straddles two 24-hour detection windows, whatever the time of the run. */
const MIDNIGHT = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
const edge = (offsetMin: number) => new Date(MIDNIGHT + offsetMin * MIN).toISOString();
const groups = (...names: string[]) => names.map((n) => ({ id: groupByName(n).id, name: n }));

/** Appended entries with every field a rule reads set explicitly (the generator would otherwise pick random actors and IPs). */
function v2(id: string, time: string, e: { action: string; result?: 'success' | 'failure'; email?: string; ip?: string; resource?: Record<string, unknown> }) {
  return {
    id, time,
    action: { type: e.action, result: e.result ?? 'success', description: id },
    // No acting token unless a fixture says so (the generator picks one for half the entries).
    actor: { id: `id-${e.email ?? 'alice'}`, email: e.email ?? 'alice@example.com', ip_address: e.ip ?? '192.0.2.10', type: 'user', context: 'dash', token_id: null, token_name: null },
    resource: { type: 'dns_record', id: `r-${id}`, request: {}, response: {}, ...e.resource },
  };
}
function v1(id: string, time: string, e: { action: string; result?: boolean; email?: string; ip?: string; resource?: Record<string, unknown>; newValueJson?: unknown; metadata?: unknown }) {
  return {
    id, time, action: { type: e.action, result: e.result ?? true },
    actor: { id: `id-${e.email ?? 'alice'}`, email: e.email ?? 'alice@example.com', ip: e.ip ?? '192.0.2.10', type: 'user', token_id: null, token_name: null },
    resource: { type: 'DNS_record', id: `r-${id}`, ...e.resource },
    ...(e.newValueJson ? { newValueJson: e.newValueJson } : {}), ...(e.metadata ? { metadata: e.metadata } : {}),
  };
}
/** The detection key of a subject's events at `time`: `<subject>|<start of its UTC window of hours>`. */
const windowKey = (subject: string, time: string, hours = 24) => {
  const ms = hours * 3_600_000;
  return `${subject}|${new Date(Math.floor(Date.parse(time) / ms) * ms).toISOString().slice(0, 16)}Z`;
};
/** The entries a detection lists (tokens, members), by source and id. */
const listed = (hit: { facts: Record<string, unknown> }, list: string) => (hit.facts[list] as Array<{ source: string; id: string }>).map((e) => `${e.source}:${e.id}`).sort();
const entry = (kind: AuditKind, id: string) => `${kind.replace('-', '_')}:${id}`;
const ALICE = 'actor:alice@example.com';

beforeAll(async () => {
  db = await createTestDatabase();
  // No generated audit entries: every entry in the archive is one of the fixtures below.
  sim = await startSimulator({
    seed: 31, rateLimit: false,
    size: { accounts: 1, userTokens: 1, accountTokensPerAccount: 0, membersPerAccount: 1, userInvites: 0, accountAuditEntries: 0, accountAuditV1Entries: 0, userAuditEntries: 0 },
  });
  account = sim.world.accounts[0]!.id;
  const acct = `com.cloudflare.api.account.${account}`;
  const tokenReq = (policies: unknown[]) => ({ type: 'api_token', id: 'tok', product: 'API Tokens', request: { name: 'new token', policies } });
  sim.world.auditStream('account-v2', account).append([
    // token grants
    v2('tok-zones-write', at(0), { action: 'create', resource: tokenReq([{ effect: 'allow', permission_groups: groups('Zone Write'), resources: { [ZONE_ALL]: '*' } }]) }),
    v2('tok-nested-purge', at(1), { action: 'update', resource: tokenReq([{ effect: 'allow', permission_groups: groups('Cache Purge'), resources: { [acct]: { [ZONE_ALL]: '*' } } }]) }),
    v2('tok-read-zones', at(2), { action: 'create', resource: tokenReq([{ effect: 'allow', permission_groups: groups('Zone Read'), resources: { [ZONE_ALL]: '*' } }]) }),
    v2('tok-failed', at(3), { action: 'create', result: 'failure', resource: tokenReq([{ effect: 'allow', permission_groups: groups('Zone Write'), resources: { [ZONE_ALL]: '*' } }]) }),
    v2('tok-old', new Date(T - 10 * 24 * 60 * MIN).toISOString(), { action: 'create', resource: tokenReq([{ effect: 'allow', permission_groups: groups('Zone Write'), resources: { [ZONE_ALL]: '*' } }]) }),
    v2('dns-with-policies', at(4), { action: 'update', resource: { type: 'dns_record', request: { policies: [{ effect: 'allow', permission_groups: groups('Zone Write'), resources: { [ZONE_ALL]: '*' } }] } } }),
    // members
    v2('member-admin', at(5), { action: 'create', resource: { type: 'account_member', request: { email: 'new.admin@example.com', roles: ['Administrator'] } } }),
    v2('member-super-by-id', at(6), { action: 'create', resource: { type: 'account_member', request: { email: 'boss@example.com', roles: [roleByName('Super Administrator - All Privileges').id] } } }),
    v2('member-dns', at(7), { action: 'create', resource: { type: 'account_member', request: { email: 'dns@example.com', roles: ['DNS'] } } }),
    v2('member-readonly', at(8), { action: 'create', resource: { type: 'account_member', request: { email: 'ro@example.com', roles: ['Administrator Read Only'] } } }),
    v2('member-admin-removed', at(9), { action: 'delete', resource: { type: 'account_member', request: { roles: ['Administrator'] } } }),
    // a grant made with an API token: its subject is the token, not the user behind it
    { ...v2('tok-by-token', at(9), { action: 'create', resource: tokenReq([{ effect: 'allow', permission_groups: groups('Zone Write'), resources: { [ZONE_ALL]: '*' } }]) }),
      actor: { id: 'id-ci', email: 'ci@example.com', ip_address: '192.0.2.10', type: 'user', token_id: 'tok-ci-0001', token_name: 'ci deployer' } },
    // an action from outside the allowed ranges, and one whose IP cannot be parsed
    v2('outsider', at(10), { action: 'update', email: 'mallory@example.com', ip: '203.0.113.9' }),
    v2('bad-ip', at(11), { action: 'update', email: 'garbled@example.com', ip: 'not-an-ip' }),
    // failed logins: victim 5 in 8 minutes; slow 5 spread over an hour; four 4 in 4 minutes; sprayed IP 5 actors in 5 minutes
    ...[0, 2, 4, 6, 8].map((m) => v2(`victim-${m}`, at(12 + m), { action: 'login', result: 'failure', email: 'victim@example.com', ip: '192.0.2.50', resource: { type: 'login' } })),
    ...[0, 15, 30, 45, 60].map((m) => v2(`slow-${m}`, at(-70 + m), { action: 'login', result: 'failure', email: 'slow@example.com', ip: '192.0.2.51', resource: { type: 'login' } })),
    ...[0, 1, 2, 3].map((m) => v2(`four-${m}`, at(30 + m), { action: 'login', result: 'failure', email: 'four@example.com', ip: '192.0.2.52', resource: { type: 'login' } })),
    // a sprayed IP whose burst begins before midnight and ends after it
    ...[0, 1, 2, 3, 4].map((m) => v2(`edge-${m}`, edge(-3 + m), { action: 'login', result: 'failure', email: `edge${m}@example.com`, ip: '192.0.2.77', resource: { type: 'login' } })),
    ...[0, 1, 2, 3, 4].map((m) => v2(`spray-${m}`, at(40 + m), { action: 'login', result: 'failure', email: `user${m}@example.com`, ip: '198.51.100.99', resource: { type: 'login' } })),
    ...[0, 1, 2, 3, 4, 5].map((m) => v2(`ok-${m}`, at(50 + m), { action: 'login', email: 'ok@example.com', ip: '192.0.2.53', resource: { type: 'login' } })),
    // the same three failures are in both logs: 3 + 3 must not make a burst of 5
    ...[0, 1, 2].map((m) => v2(`dup-${m}`, at(20 + m), { action: 'login', result: 'failure', email: 'dup@example.com', ip: '192.0.2.54', resource: { type: 'login' } })),
  ]);
  sim.world.auditStream('account-v1', account).append([
    v1('v1-token-sensitive', at(0), { action: 'token_update', resource: { type: 'API_Token', id: 'tok1' },
      newValueJson: { name: 'ops', policies: [{ effect: 'allow', permission_groups: groups('Account API Tokens Write'), resources: { [acct]: '*' } }] } }),
    v1('v1-token-narrow', at(1), { action: 'create', resource: { type: 'API_Token', id: 'tok2' },
      newValueJson: { name: 'dns', policies: [{ effect: 'allow', permission_groups: groups('DNS Write'), resources: { [`com.cloudflare.api.account.zone.z1`]: '*' } }] } }),
    v1('v1-member-super', at(2), { action: 'add', resource: { type: 'member', id: 'm1' }, metadata: { email: 'x@example.com', roles: ['Super Administrator - All Privileges'] } }),
    ...[0, 1, 2].map((m) => v1(`dup1-${m}`, at(20 + m), { action: 'login', result: false, email: 'dup@example.com', ip: '192.0.2.54', resource: { type: 'user' } })),
  ]);
  ctx = testContext(db, sim);
  const outcomes = await syncAll(ctx, { streams: [...INVENTORY_KINDS, 'account-audit', 'account-audit-v1', 'user-audit'] });
  expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

const env = () => ({ db: db.db, config: ctx.config });

describe('audit-token-broad-grant', () => {
  it('one detection per actor (or acting token) and window, listing the broad or sensitive grants, v2 and v1, inside the look-back', async () => {
    const hits = await evaluate(auditTokenBroadGrant, env());
    const alice = [at(0), at(1)].map((t) => windowKey(ALICE, t));
    expect(keysOf(hits)).toEqual([...new Set([...alice, windowKey('token:tok-ci-0001', at(9))])].sort());
    const mine = hits.filter((h) => h.resourceKey.startsWith(ALICE));
    expect(mine.flatMap((h) => listed(h, 'tokens')).sort()).toEqual([entry('account-v2', 'tok-zones-write'), entry('account-v2', 'tok-nested-purge'), entry('account-v1', 'v1-token-sensitive')].sort());
    // The worst grant sets the severity: a sensitive group is critical.
    const sensitive = mine.find((h) => listed(h, 'tokens').includes(entry('account-v1', 'v1-token-sensitive')))!;
    expect(sensitive).toMatchObject({ severity: 'critical', resourceType: 'actor', resourceName: 'alice@example.com', accountId: account, facts: { sensitive_groups: ['Account API Tokens Write'] } });
    expect(sensitive.lastEventAt).toBe(sensitive.facts.last_event_at);
    const byToken = hitOf(hits, windowKey('token:tok-ci-0001', at(9)));
    expect(byToken).toMatchObject({ severity: 'high', resourceType: 'token', resourceName: 'ci deployer', facts: { entries: 1, window_hours: 24 } });
  });

  it('a longer look-back reaches the older grant; a shorter window splits the detections', async () => {
    const old = new Date(T - 10 * 24 * 60 * MIN).toISOString();
    expect(keysOf(await evaluate(auditTokenBroadGrant, env(), { lookbackDays: 30 }))).toContain(windowKey(ALICE, old));
    const hourly = await evaluate(auditTokenBroadGrant, env(), { groupHours: 1 });
    expect(keysOf(hourly)).toEqual([...new Set([at(0), at(1), at(9)].map((t, i) => windowKey(i === 2 ? 'token:tok-ci-0001' : ALICE, t, 1)))].sort());
  });
});

describe('audit-admin-member-added', () => {
  it('members added with an administrator role, by name or by role id; not read-only, not removals; grouped per actor and window', async () => {
    const hits = await evaluate(auditAdminMemberAdded, env());
    expect(keysOf(hits)).toEqual([...new Set([at(5), at(6), at(2)].map((t) => windowKey(ALICE, t)))].sort());
    expect(hits.flatMap((h) => listed(h, 'members')).sort()).toEqual([entry('account-v2', 'member-admin'), entry('account-v2', 'member-super-by-id'), entry('account-v1', 'v1-member-super')].sort());
    const members = hits.flatMap((h) => h.facts.members as Array<{ id: string; member_email: string; roles: string[] }>);
    expect(members.find((m) => m.id === 'member-super-by-id')).toMatchObject({ member_email: 'boss@example.com', roles: ['Super Administrator - All Privileges'] });
  });
});

describe('live accounts only', () => {
  it('an account marked deleted produces no new detection; user-level entries stay in', async () => {
    const before = await evaluate(auditAdminMemberAdded, env());
    expect(before.length).toBeGreaterThan(0);
    await db.pool.query(`update accounts set deleted_at = now() where id = $1`, [account]);
    let saved: Array<Record<string, unknown>> = [];
    try {
      for (const rule of [auditAdminMemberAdded, auditTokenBroadGrant, auditFailedLoginBurst]) expect(await evaluate(rule, env()), rule.id).toEqual([]);
      expect(await evaluate(auditIpNotAllowed, env(), { allowedCidrs: ['192.0.2.0/24'] })).toEqual([]);
      // An entry with no account (the user log) is not an account's: still judged.
      // The stored entry names its account by reference (migration 0023): the reference goes (and comes back below).
      saved = (await db.pool.query(`select source, id, event_time, account_ref from audit_entries where id = 'outsider'`)).rows;
      expect(saved.length).toBeGreaterThan(0);
      await db.pool.query(`update audit_entries set account_ref = null where id = 'outsider'`);
      expect(keysOf(await evaluate(auditIpNotAllowed, env(), { allowedCidrs: ['192.0.2.0/24', '198.51.100.0/24'] }))).toEqual([windowKey('actor:mallory@example.com', at(10))]);
    } finally {
      for (const r of saved) {
        await db.pool.query(`update audit_entries set account_ref = $4 where source = $1 and id = $2 and event_time = $3`, [r.source, r.id, r.event_time, r.account_ref]);
      }
      await db.pool.query(`update accounts set deleted_at = null where id = $1`, [account]);
    }
  });
});

describe('audit-ip-not-allowed', () => {
  it('is inactive without an allowed list', async () => {
    expect(await evaluate(auditIpNotAllowed, env())).toEqual([]);
  });

  it('reports each actor with actions from outside the allowed CIDRs; unparseable IPs are skipped', async () => {
    const hits = await evaluate(auditIpNotAllowed, env(), { allowedCidrs: ['192.0.2.0/24', '198.51.100.0/24', '2001:db8::/32'] });
    expect(keysOf(hits)).toEqual([windowKey('actor:mallory@example.com', at(10))]);
    expect(hits[0]!).toMatchObject({ resourceName: 'mallory@example.com', lastEventAt: at(10), facts: { ips: ['203.0.113.9'], entries: 1, accounts: [account] } });
    // Narrower: the sprayed logins from 198.51.100.99 become outside too.
    const narrow = await evaluate(auditIpNotAllowed, env(), { allowedCidrs: ['192.0.2.0/24'] });
    expect(keysOf(narrow)).toEqual([windowKey('actor:mallory@example.com', at(10)), ...[0, 1, 2, 3, 4].map((m) => windowKey(`actor:user${m}@example.com`, at(40 + m)))].sort());
  });

  it('names a CIDR it cannot use', async () => {
    await expect(evaluate(auditIpNotAllowed, env(), { allowedCidrs: ['192.0.2.0/33'] })).rejects.toThrow(/allowedCidrs: not a CIDR: 192.0.2.0\/33/);
  });
});

describe('audit-failed-login-burst', () => {
  it('a burst by one actor, and one IP spraying several actors; slow, short, successful and double-logged failures pass', async () => {
    const hits = await evaluate(auditFailedLoginBurst, env());
    const victim = windowKey('actor:victim@example.com', at(20));
    const spray = windowKey('ip:198.51.100.99', at(44));
    const midnight = windowKey('ip:192.0.2.77', edge(1));
    expect(keysOf(hits)).toEqual([victim, spray, midnight].sort());
    expect(hitOf(hits, victim)).toMatchObject({ lastEventAt: at(20), facts: { failures_in_window: 5, burst_minutes: 10, ips: ['192.0.2.50'], burst_start: at(12), burst_end: at(20) } });
    expect(hitOf(hits, spray).facts).toMatchObject({ failures_in_window: 5, actors: [0, 1, 2, 3, 4].map((m) => `user${m}@example.com`) });
    // Keyed by the window the burst ends in, listing every actor of the burst, those before midnight too.
    expect(hitOf(hits, midnight).facts).toMatchObject({ failures_in_window: 5, failures: 5, burst_start: edge(-3), burst_end: edge(1), actors: [0, 1, 2, 3, 4].map((m) => `edge${m}@example.com`) });
  });

  it('thresholds: 4 failures in 5 minutes catch the shorter burst', async () => {
    const hits = await evaluate(auditFailedLoginBurst, env(), { failures: 4, windowMinutes: 5 });
    expect(keysOf(hits)).toEqual([windowKey('actor:four@example.com', at(33)), windowKey('ip:198.51.100.99', at(44)), windowKey('ip:192.0.2.77', edge(0))].sort());
  });
});
