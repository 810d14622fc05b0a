import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf } from '../../src/access/of.js';
import type { AccessRow } from '../../src/access/rows.js';
import { whoCan } from '../../src/access/who-can.js';
import { ACCOUNT_KEY, accessRows, type AccessRows, tokenPolicy, ZONE_KEY } from '../helpers/access-rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// docs/access-model.md, rule by rule, against worlds worked out by hand: each case states the
// rows it inserts and the exact rows of effective_access it expects.

let db: TestDatabase;
let w: AccessRows;

/** The rows of effective_access for these principals, as comparable tuples. */
async function model(where: string): Promise<string[]> {
  const rows = (await db.pool.query<AccessRow>(`select * from effective_access where ${where}`)).rows;
  return rows.map(tuple).sort();
}
const tuple = (r: AccessRow) =>
  [r.principal, r.access, r.permission_group_name, r.resource_kind, r.zone_name ?? r.zone_id ?? '-', r.path,
    r.group_name ?? r.organization_id ?? r.policy_id ?? '-', r.effective ? 'effective' : `not: ${r.not_effective_reason}`].join(' | ');
const who = async (permission: string, opts: { account?: string; zone?: string; at?: Date } = {}) =>
  (await whoCan(db.db, { permission, ...opts })).rows.map((r) => `${r.principal} ${r.path}`).sort();

beforeAll(async () => {
  db = await createTestDatabase();
  w = accessRows(db.pool);
  // The Done-when world: account acme with two zones.
  await w.account('acme', 'Acme');
  await w.zone('z1', 'acme', 'example.com');
  await w.zone('z2', 'acme', 'other.com');
  await w.completeListings(['acme']);
  // 1. alice edits DNS directly (legacy role).
  await w.member({ id: 'm-alice', account: 'acme', email: 'alice@example.com', roles: ['DNS'] });
  // 2. bob holds nothing himself; group Platform Admins' policy 3 gives DNS on example.com only.
  await w.member({ id: 'm-bob', account: 'acme', email: 'bob@example.com' });
  await w.group({ id: 'g-platform', account: 'acme', name: 'Platform Admins', policies: [{ id: '3', groups: ['DNS'], resources: [{ zones: ['z1'] }] }] });
  await w.groupMember('g-platform', 'm-bob', 'acme');
  // 3. carol is no member of acme: her organization owns it.
  await w.organization({ id: 'org1', accounts: ['acme'], members: [{ id: 'om-carol', userId: 'u-carol', email: 'carol@example.com' }] });
  // 4. dave's own policy allows DNS account-wide; group No DNS's policy 7 denies it.
  await w.member({ id: 'm-dave', account: 'acme', email: 'dave@example.com', policies: [{ id: 'p-dave', groups: ['DNS'] }] });
  await w.group({ id: 'g-nodns', account: 'acme', name: 'No DNS', policies: [{ id: '7', access: 'deny', groups: ['DNS'] }] });
  await w.groupMember('g-nodns', 'm-dave', 'acme');
  // 5. erin reads analytics only, and holds a user token for DNS Write on example.com.
  await w.member({ id: 'm-erin', account: 'acme', email: 'erin@example.com', userId: 'u-erin', roles: ['Analytics'] });
  await w.token({ id: 't-erin', name: 'erin-dns', ownerType: 'user', userId: 'u-erin', policies: [tokenPolicy('tp1', ['DNS Write'], { [ZONE_KEY('z1')]: '*' })] });
});

afterAll(async () => {
  await db?.drop();
});

describe('the Done-when world', () => {
  it('who-can dns:edit on example.com returns exactly alice, bob and carol, each with its path', async () => {
    const r = await whoCan(db.db, { permission: 'dns:edit', zone: 'example.com' });
    expect(r.rows.map((x) => [x.principal, x.path, x.group_name ?? x.organization_id ?? x.permission_group_name])).toEqual([
      ['alice@example.com', 'role', 'DNS'],
      ['bob@example.com', 'group', 'Platform Admins'],
      ['carol@example.com', 'organization', 'org1'],
    ]);
    expect(r.incomplete).toEqual([]);
    // The alias and the token-side name reach the same capability.
    expect(await who('dns.write', { zone: 'z1' })).toEqual(['alice@example.com role', 'bob@example.com group', 'carol@example.com organization']);
  });

  it('effective_access agrees row for row with the hand-worked answer', async () => {
    expect(await model(`account_id = 'acme'`)).toEqual([
      'alice@example.com | allow | DNS | account | - | role | - | effective',
      'bob@example.com | allow | DNS | zone | example.com | group | Platform Admins | effective',
      'carol@example.com | allow | Super Administrator - All Privileges | account | - | organization | org1 | effective',
      'dave@example.com | allow | DNS | account | - | policy | p-dave | not: denied by group No DNS policy 7',
      'dave@example.com | deny | DNS | account | - | group | No DNS | not: deny policy: removes DNS here from every path',
      'erin-dns | allow | DNS Write | zone | example.com | token | tp1 | not: beyond owner\'s access: the owner does not hold DNS Write here',
      'erin@example.com | allow | Analytics | account | - | role | - | effective',
    ].sort());
    const carol = (await db.pool.query<AccessRow>(`select * from effective_access where path = 'organization'`)).rows[0]!;
    expect(carol).toMatchObject({ principal_id: 'organization-member:org1:om-carol', user_id: 'u-carol', account_name: 'Acme', picture_complete: true, picture_missing: [] });
  });

  it('access of an email lists every path, and the user tokens the member bounds', async () => {
    const r = await accessOf(db.db, 'erin@example.com');
    expect(r.rows.map(tuple)).toEqual([
      'erin@example.com | allow | Analytics | account | - | role | - | effective',
      'erin-dns | allow | DNS Write | zone | example.com | token | tp1 | not: beyond owner\'s access: the owner does not hold DNS Write here',
    ]);
    await expect(accessOf(db.db, 'nobody@example.com')).rejects.toThrow(/no member or token "nobody@example.com"/);
  });
});

describe('rules of docs/access-model.md', () => {
  beforeAll(async () => {
    await w.account('beta', 'Beta');
    await w.zone('bz1', 'beta', 'beta.example');
    await w.zone('bz2', 'beta', 'beta2.example');
    await w.completeListings(['beta']);
  });

  it('rule 1: access is the union of paths, one row per path', async () => {
    await w.member({ id: 'm-r1', account: 'beta', email: 'r1@example.com', roles: ['DNS'], policies: [{ id: 'r1p', groups: ['DNS'] }] });
    await w.group({ id: 'g-r1', account: 'beta', name: 'R1 Group', policies: [{ id: 'r1g', groups: ['DNS'] }] });
    await w.groupMember('g-r1', 'm-r1', 'beta');
    expect(await model(`principal = 'r1@example.com'`)).toEqual([
      'r1@example.com | allow | DNS | account | - | group | R1 Group | effective',
      'r1@example.com | allow | DNS | account | - | policy | r1p | effective',
      'r1@example.com | allow | DNS | account | - | role | - | effective',
    ]);
  });

  it('rule 2: a deny removes the same group from every path of the member, role included', async () => {
    await w.member({ id: 'm-r2', account: 'beta', email: 'r2@example.com', roles: ['Administrator'], policies: [{ id: 'r2deny', access: 'deny', groups: ['Administrator'] }] });
    expect(await model(`principal = 'r2@example.com'`)).toEqual([
      'r2@example.com | allow | Administrator | account | - | role | - | not: denied by member policy r2deny',
      'r2@example.com | deny | Administrator | account | - | policy | r2deny | not: deny policy: removes Administrator here from every path',
    ]);
    expect(await who('admin', { account: 'beta' })).not.toContain('r2@example.com role');
  });

  it('rule 3: a deny narrower than the allow carves out: effective elsewhere, not on the denied zone', async () => {
    await w.member({ id: 'm-r3', account: 'beta', email: 'r3@example.com',
      policies: [{ id: 'r3a', groups: ['DNS'] }, { id: 'r3d', access: 'deny', groups: ['DNS'], resources: [{ zones: ['bz2'] }] }] });
    expect(await model(`principal = 'r3@example.com'`)).toEqual([
      'r3@example.com | allow | DNS | account | - | policy | r3a | effective',
      'r3@example.com | deny | DNS | zone | beta2.example | policy | r3d | not: deny policy: removes DNS here from every path',
    ]);
    expect(await who('dns:edit', { zone: 'beta.example' })).toContain('r3@example.com policy');
    expect(await who('dns:edit', { zone: 'beta2.example' })).not.toContain('r3@example.com policy');
  });

  it('rule 3: who-can applies a deny of any group holding the capability (deny DNS removes DNS editing from an Administrator)', async () => {
    await w.member({ id: 'm-r3b', account: 'beta', email: 'r3b@example.com', roles: ['Administrator'],
      policies: [{ id: 'r3bd', access: 'deny', groups: ['DNS'], resources: [{ zones: ['bz1'] }] }] });
    expect(await who('dns:edit', { zone: 'beta.example' })).not.toContain('r3b@example.com role');
    expect(await who('dns:edit', { zone: 'beta2.example' })).toContain('r3b@example.com role');
    // The row itself stays effective: Administrator is not the denied group.
    expect(await model(`principal = 'r3b@example.com' and access = 'allow'`)).toEqual(['r3b@example.com | allow | Administrator | account | - | role | - | effective']);
  });

  it('rule 4: an account deny does not reach organization access', async () => {
    await w.member({ id: 'm-r4', account: 'beta', email: 'r4@example.com', userId: 'u-r4',
      policies: [{ id: 'r4d', access: 'deny', groups: ['Super Administrator - All Privileges'] }] });
    await w.organization({ id: 'org4', accounts: ['beta'], members: [{ id: 'om-r4', userId: 'u-r4', email: 'r4@example.com' }] });
    const rows = await model(`principal = 'r4@example.com'`);
    expect(rows).toContain('r4@example.com | allow | Super Administrator - All Privileges | account | - | organization | org4 | effective');
    // The organization row joins the account member it is (same user): one principal.
    expect((await db.pool.query(`select distinct principal_id from effective_access where principal = 'r4@example.com'`)).rows).toEqual([{ principal_id: 'm-r4' }]);
  });

  it('rule 5 and 9: a Super Administrator holds every capability', async () => {
    await w.member({ id: 'm-r5', account: 'beta', email: 'r5@example.com', roles: ['Super Administrator - All Privileges'] });
    for (const capability of ['dns:edit', 'billing:edit', 'members:manage', 'super-admin', 'admin']) {
      expect(await who(capability, { account: 'beta' })).toContain('r5@example.com role');
    }
  });

  it('rule 6: a zone-scoped grant covers its zone only; all zones and the account cover every zone', async () => {
    await w.resourceGroup({ id: 'rg-bz1', account: 'beta', scopeKey: ACCOUNT_KEY('beta'), objectKeys: [ZONE_KEY('bz1')] });
    await w.member({ id: 'm-r6', account: 'beta', email: 'r6@example.com', policies: [{ id: 'r6p', groups: ['Domain DNS'], resources: [{ id: 'rg-bz1' }] }] });
    await w.member({ id: 'm-r6b', account: 'beta', email: 'r6b@example.com', userId: 'u-r6b', roles: ['Administrator'] });
    await w.token({ id: 't-r6', name: 'r6-all-zones', ownerType: 'account', account: 'beta', policies: [tokenPolicy('r6t', ['DNS Write'], { 'com.cloudflare.api.account.zone.*': '*' })] });
    // A resource group named by id only is read from the resource_groups listing.
    expect(await model(`principal = 'r6@example.com'`)).toEqual(['r6@example.com | allow | Domain DNS | zone | beta.example | policy | r6p | effective']);
    expect(await model(`principal = 'r6-all-zones'`)).toEqual(['r6-all-zones | allow | DNS Write | all_zones | - | token | r6t | effective']);
    expect(await who('dns:edit', { zone: 'beta.example' })).toEqual(expect.arrayContaining(['r6@example.com policy', 'r6-all-zones token', 'r6b@example.com role']));
    const other = await who('dns:edit', { zone: 'beta2.example' });
    expect(other).not.toContain('r6@example.com policy');
    expect(other).toEqual(expect.arrayContaining(['r6-all-zones token', 'r6b@example.com role']));
  });

  it('rule 8: a user token is bounded by its owner: within (Administrator covers DNS Write on all zones), beyond, unknown owner, account tokens unbounded', async () => {
    await w.token({ id: 't-r8a', name: 'r8-within', ownerType: 'user', userId: 'u-r6b', policies: [tokenPolicy('r8a', ['DNS Write'], { [ACCOUNT_KEY('beta')]: { 'com.cloudflare.api.account.zone.*': '*' } })] });
    await w.token({ id: 't-r8b', name: 'r8-beyond', ownerType: 'user', userId: 'u-r6b', policies: [tokenPolicy('r8b', ['Billing Write'], { [ACCOUNT_KEY('beta')]: '*' })] });
    await w.token({ id: 't-r8c', name: 'r8-unknown-owner', ownerType: 'user', userId: 'credential:ci', policies: [tokenPolicy('r8c', ['Billing Write'], { [ACCOUNT_KEY('beta')]: '*' })] });
    await w.token({ id: 't-r8d', name: 'r8-unmapped', ownerType: 'user', userId: 'u-r6b', policies: [tokenPolicy('r8d', ['Logs Write'], { [ACCOUNT_KEY('beta')]: '*' })] });
    expect(await model(`principal like 'r8-%'`)).toEqual([
      'r8-beyond | allow | Billing Write | account | - | token | r8b | not: beyond owner\'s access: the owner does not hold Billing Write here',
      'r8-unknown-owner | allow | Billing Write | account | - | token | r8c | effective',
      'r8-unmapped | allow | Logs Write | account | - | token | r8d | effective',
      'r8-within | allow | DNS Write | all_zones | - | token | r8a | effective',
    ]);
    const unknown = (await db.pool.query<AccessRow>(`select * from effective_access where principal = 'r8-unknown-owner'`)).rows[0]!;
    expect(unknown.picture_complete).toBe(false);
    expect(unknown.picture_missing).toContain('token owner unknown');
  });

  it('rule 8: a user token naming every account reaches each account its owner is in, bounded in each', async () => {
    await w.member({ id: 'm-r8-acme', account: 'acme', email: 'r6b@example.com', userId: 'u-r6b', roles: ['Analytics'] });
    await w.token({ id: 't-r8e', name: 'r8-everywhere', ownerType: 'user', userId: 'u-r6b', policies: [tokenPolicy('r8e', ['DNS Write'], { 'com.cloudflare.api.account.*': '*' })] });
    const rows = (await db.pool.query<AccessRow>(`select account_id, effective from effective_access where principal = 'r8-everywhere' order by account_id`)).rows;
    expect(rows).toEqual([{ account_id: 'acme', effective: false }, { account_id: 'beta', effective: true }]);
  });

  it('rule 10: pending members and inactive tokens hold nothing', async () => {
    await w.member({ id: 'm-r10', account: 'beta', email: 'r10@example.com', status: 'pending', roles: ['Administrator'] });
    await w.token({ id: 't-r10', name: 'r10-disabled', ownerType: 'account', account: 'beta', status: 'disabled', policies: [tokenPolicy('r10', ['DNS Write'], { [ACCOUNT_KEY('beta')]: '*' })] });
    expect(await model(`principal in ('r10@example.com', 'r10-disabled')`)).toEqual([
      'r10-disabled | allow | DNS Write | account | - | token | r10 | not: token disabled',
      'r10@example.com | allow | Administrator | account | - | role | - | not: invitation pending',
    ]);
  });
});

describe('rule 11: an incomplete picture says so by name, everywhere', () => {
  beforeAll(async () => {
    await w.account('gamma', 'Gamma');
    await w.completeListings(['gamma']);
    await w.listing('account:gamma', 'user-groups', 'forbidden', '403 Forbidden: Authentication error');
    await w.member({ id: 'm-g1', account: 'gamma', email: 'g1@example.com', roles: ['DNS'] });
  });

  it('a forbidden listing marks every row of that account, and the answers name it', async () => {
    const rows = (await db.pool.query<AccessRow>(`select * from effective_access where account_id = 'gamma'`)).rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.picture_complete).toBe(false);
      expect(r.picture_missing).toEqual(['user-groups forbidden (403 Forbidden: Authentication error)']);
    }
    const answer = await whoCan(db.db, { permission: 'dns:edit', account: 'gamma' });
    expect(answer.incomplete).toEqual([{ account_id: 'gamma', account_name: 'Gamma', missing: ['user-groups forbidden (403 Forbidden: Authentication error)'] }]);
    expect((await accessOf(db.db, 'g1@example.com')).incomplete.map((p) => p.account_id)).toEqual(['gamma']);
  });

  it('a listing never walked, or seen only in a provisioner\'s view, is missing too', async () => {
    await w.account('delta', 'Delta');
    await w.listing('account:delta', 'account-tokens', 'complete', null, 'provisioner:tok1');
    const pic = (await db.pool.query(`select complete, missing from access_pictures where account_id = 'delta'`)).rows[0];
    expect(pic).toEqual({ complete: false, missing: [
      'account-tokens view of provisioner:tok1', 'members not synced', 'resource-groups not synced',
      'user-group-members not synced', 'user-groups not synced', 'zones not synced'] });
  });

  it('a credential-wide listing that failed is missing from every account', async () => {
    await w.listing('credential:other', 'organizations', 'not_applicable', 'account token: /organizations is user-level');
    const pic = (await db.pool.query(`select missing from access_pictures where account_id = 'acme'`)).rows[0];
    expect(pic.missing).toEqual(['organizations not_applicable (account token: /organizations is user-level) for credential other']);
    await db.pool.query(`delete from access_listings where scope = 'credential:other'`);
  });
});

describe('effective_access_at', () => {
  it('answers from the version tables: a group membership added later is absent before it', async () => {
    const before = new Date(Date.now() - 3_600_000);
    const added = new Date(Date.now() - 1_800_000);
    const q = (text: string, params: unknown[]) => db.pool.query(text, params);
    const day = new Date(Date.now() - 86_400_000);
    await q(`insert into account_member_versions (valid_from, change, changed_fields, member_id, account_id, user_id, email, status, role_names, policies)
             values ($1, 'created', '{}', 'm-h', 'acme', 'u-h', 'h@example.com', 'accepted', '{}', '[]')`, [day]);
    await q(`insert into user_group_versions (valid_from, change, changed_fields, group_id, account_id, name, policies)
             values ($1, 'created', '{}', 'g-h', 'acme', 'History Admins', $2)`, [day, JSON.stringify([{ id: '9', access: 'allow', permission_groups: [{ id: 'x', name: 'Administrator' }], resource_groups: [] }])]);
    await q(`insert into user_group_member_versions (valid_from, change, changed_fields, membership_id, group_id, member_id, account_id)
             values ($1, 'created', '{}', 'g-h:m-h', 'g-h', 'm-h', 'acme')`, [added]);
    const at = async (t: Date) => (await db.db.execute<AccessRow>(sql`select * from effective_access_at(${t.toISOString()}::timestamptz) where principal = 'h@example.com'`)).rows.map(tuple);
    expect(await at(before)).toEqual([]);
    expect(await at(new Date())).toEqual(['h@example.com | allow | Administrator | account | - | group | History Admins | effective']);
    expect(await who('admin', { account: 'acme', at: before })).not.toContain('h@example.com group');
    expect(await who('admin', { account: 'acme', at: new Date() })).toContain('h@example.com group');
  });
});
