import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator, type WorldSize } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { outcomeOf, succeeded } from '../helpers/audit.js';
import { accessWorld } from '../helpers/access-world.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { viaJson } from '../helpers/inventory.js';

// The access-path inventory (issue 18 item 1): user groups and their members, resource groups, IAM
// permission groups, zones, organizations; each walk's access_listings row.

interface Harness { db: TestDatabase; sim: Simulator; ctx: () => TestContext; account: string; w: ReturnType<typeof accessWorld> }
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

async function harness(size: Partial<WorldSize> = {}): Promise<Harness> {
  const sim = await startSimulator({ seed: 23, size: { accounts: 2, ...size }, rateLimit: false });
  const db = await createTestDatabase();
  cleanups.push(() => db.drop(), () => sim.close());
  return { db, sim, ctx: () => testContext(db, sim, { LOG_LEVEL: 'info' }), account: sim.world.accounts[0]!.id, w: accessWorld(sim) };
}

const q = async (h: Harness, sql: string, params: unknown[] = []) => (await h.db.pool.query(sql, params)).rows;
const sync = async (h: Harness, ...streams: string[]) => {
  const outcomes = await syncAll(h.ctx(), { streams });
  return streams.map((s) => outcomeOf(outcomes, s));
};
const listing = async (h: Harness, scope: string, name: string) =>
  (await q(h, 'select state, reason, credential, view_of, complete_at is not null as completed from access_listings where scope = $1 and listing = $2', [scope, name]))[0];

describe('access-path streams store what Cloudflare answers, field by field', () => {
  it('user groups with policies and members, resource groups, IAM permission groups, zones, organizations', async () => {
    const h = await harness();
    const a = h.account;
    const streams = ['user-groups', 'resource-groups', 'iam-permission-groups', 'zones'].map((k) => `${k}:${a}`);
    for (const o of await sync(h, ...streams, 'organizations:default')) succeeded(o);

    const groups = h.sim.world.access.userGroups(a);
    const rows = await q(h, 'select id, account_id, name, policies, created_on, modified_on, deleted_at from user_groups order by name');
    expect(rows.map((r) => r.name)).toEqual(['Auditors', 'DNS Editors', 'Platform Admins']);
    for (const g of groups) {
      const row = rows.find((r) => r.id === g.id)!;
      expect(row).toMatchObject({ account_id: a, name: g.name, deleted_at: null });
      expect(row.policies).toEqual(viaJson(g.policies));
      expect(row.created_on.toISOString().replace('.000Z', 'Z')).toBe(g.created_on);
    }
    const members = await q(h, 'select id, group_id, member_id, account_id, email, status from user_group_members order by id');
    const expected = groups.flatMap((g) => h.sim.world.access.groupMembers(a, g.id).map(({ member }) =>
      ({ id: `${g.id}:${member.id}`, group_id: g.id, member_id: member.id, account_id: a, email: member.email, status: member.status })));
    expect(members).toEqual(expected.sort((x, y) => x.id.localeCompare(y.id)));
    expect(members.length).toBe(4);

    const rgs = await q(h, 'select id, name, scope_key, object_keys, meta from resource_groups order by id');
    expect(rgs).toEqual(h.sim.world.access.resourceGroups(a).map((r) => ({ id: r.id, name: r.name, scope_key: r.scope.key,
      object_keys: r.scope.objects.map((o) => o.key), meta: r.meta })).sort((x, y) => x.id.localeCompare(y.id)));
    const pgs = await q(h, `select id, name, meta from iam_permission_groups where account_id = $1 and name = 'Super Administrator - All Privileges'`, [a]);
    expect(pgs).toHaveLength(1);
    expect(pgs[0].meta).toEqual({ label: 'super_administrator_all_privileges', scopes: 'com.cloudflare.api.account' });
    const zones = await q(h, 'select id, account_id, name, status from zones order by name');
    expect(zones).toEqual(h.sim.world.zones.get(a)!.map((z) => ({ id: z.id, account_id: a, name: z.name, status: 'active' })).sort((x, y) => x.name.localeCompare(y.name)));

    const org = h.sim.world.access.orgs[0]!;
    expect(await q(h, 'select id, name, credential from organizations')).toEqual([{ id: org.org.id, name: 'Acme Holdings', credential: 'default' }]);
    expect(await q(h, 'select id, organization_id, member_id, user_id, email, status, two_factor_enabled from organization_members order by email')).toEqual(
      org.members.map((m) => ({ id: `${org.org.id}:${m.id}`, organization_id: org.org.id, member_id: m.id, user_id: m.user.id, email: m.user.email,
        status: 'active', two_factor_enabled: m.user.two_factor_authentication_enabled })).sort((x, y) => x.email.localeCompare(y.email)));
    expect(await q(h, 'select id, account_id, account_name from organization_accounts')).toEqual([{ id: `${org.org.id}:${a}`, account_id: a, account_name: h.sim.world.accounts[0]!.name }]);

    // Every listing says it was read whole; every group and membership has its first version.
    for (const l of ['user-groups', 'user-group-members', 'resource-groups', 'iam-permission-groups', 'zones']) {
      expect(await listing(h, `account:${a}`, l), l).toEqual({ state: 'complete', reason: null, credential: 'default', view_of: 'account', completed: true });
    }
    expect((await listing(h, 'credential:default', 'organizations')).state).toBe('complete');
    expect((await q(h, `select count(*)::int as n from user_group_versions where change = 'created'`))[0].n).toBe(3);
    expect((await q(h, `select count(*)::int as n from user_group_member_versions where change = 'created'`))[0].n).toBe(4);
    expect((await q(h, `select count(*)::int as n from organization_member_versions`))[0].n).toBe(2);
  });
});

describe('pages join up and deletions are proven', () => {
  it('a group of more members than a page; one removed is marked deleted and its version closed', async () => {
    const h = await harness({ membersPerAccount: 130 });
    const a = h.account;
    const big = h.w.addUserGroup(a, { name: 'Everyone', policies: [{ permissionGroups: ['Zone Read'] }] });
    for (const m of h.sim.world.members(a)) h.w.addGroupMember(big.id, m.id);
    const stream = `user-groups:${a}`;
    succeeded((await sync(h, stream))[0]!);
    const pages = h.sim.stats.log.filter((l) => l.route === 'GET /accounts/:account_id/iam/user_groups/:user_group_id/members' && l.path.includes(big.id));
    expect(pages.map((l) => l.query.page)).toEqual(['1', '2']);
    expect((await q(h, 'select count(*)::int as n from user_group_members where group_id = $1 and deleted_at is null', [big.id]))[0].n).toBe(130);

    const leaving = h.sim.world.members(a)[7]!.id;
    h.w.removeGroupMember(big.id, leaving);
    succeeded((await sync(h, stream))[0]!);
    const gone = await q(h, 'select id, deleted_reason from user_group_members where deleted_at is not null');
    expect(gone).toEqual([{ id: `${big.id}:${leaving}`, deleted_reason: 'confirmed gone: its detail endpoint answered 404' }]);
    const versions = await q(h, 'select change, valid_to is not null as closed, ended_by from user_group_member_versions where membership_id = $1', [`${big.id}:${leaving}`]);
    expect(versions).toEqual([{ change: 'created', closed: true, ended_by: 'deletion' }]);
  });

  it('a member listing that shifts mid-walk is walked again; nothing live is marked deleted', async () => {
    const h = await harness({ membersPerAccount: 130 });
    const a = h.account;
    const big = h.w.addUserGroup(a, { name: 'Everyone' });
    for (const m of h.sim.world.members(a)) h.w.addGroupMember(big.id, m.id);
    const stream = `user-groups:${a}`;
    succeeded((await sync(h, stream))[0]!);
    // Groups are walked in name order: Auditors, DNS Editors, Everyone (the third member listing).
    h.sim.setFaults([{ route: 'GET /accounts/:account_id/iam/user_groups/:user_group_id/members', kind: 'shift-listing', match: { page: '1' }, skip: 2, count: 1 }]);
    const o = succeeded((await sync(h, stream))[0]!);
    expect(o.counts.rewalks).toBeGreaterThanOrEqual(1);
    const [{ removedId }] = h.sim.shifted as unknown as [{ removedId: string }];
    const live = (await q(h, 'select member_id from user_group_members where group_id = $1 and deleted_at is null', [big.id])).map((r) => r.member_id);
    const inWorld = h.sim.world.access.groupMembers(a, big.id).map((m) => m.member.id);
    // Everyone still in the group is live; the one removed is gone (detail 404) or waits for the next walk.
    for (const id of inWorld) expect(live).toContain(id);
    const deleted = (await q(h, 'select member_id from user_group_members where deleted_at is not null')).map((r) => r.member_id);
    expect(deleted.every((id) => id === removedId)).toBe(true);
  });

  it('a deleted group is confirmed on its detail endpoint and takes its memberships along', async () => {
    const h = await harness();
    const a = h.account;
    const stream = `user-groups:${a}`;
    succeeded((await sync(h, stream))[0]!);
    const admins = h.sim.world.access.userGroups(a).find((g) => g.name === 'Platform Admins')!;
    h.w.removeUserGroup(admins.id);
    succeeded((await sync(h, stream))[0]!);
    expect(await q(h, 'select name, deleted_reason from user_groups where deleted_at is not null')).toEqual([
      { name: 'Platform Admins', deleted_reason: 'confirmed gone: its detail endpoint answered 404' }]);
    const detail = h.sim.stats.log.filter((l) => l.route === 'GET /accounts/:account_id/iam/user_groups/:user_group_id');
    expect(detail.map((l) => l.status)).toEqual([404]);
    expect(await q(h, 'select distinct deleted_reason from user_group_members where group_id = $1', [admins.id])).toEqual([{ deleted_reason: 'its user group was deleted' }]);
    expect((await q(h, 'select count(*)::int as n from user_group_versions where group_id = $1 and ended_by = $2', [admins.id, 'deletion']))[0].n).toBe(1);
  });

  it('organizations page by page_token (members of more than one page)', async () => {
    const h = await harness();
    const org = h.sim.world.access.orgs[0]!;
    for (let i = 0; i < 120; i++) h.w.addOrgMember(org.org.id, { email: `person${String(i).padStart(3, '0')}@org.test` });
    succeeded((await sync(h, 'organizations:default'))[0]!);
    const calls = h.sim.stats.log.filter((l) => l.route === 'GET /organizations/:organization_id/members');
    expect(calls).toHaveLength(2);
    expect(calls[0]!.query.page_token).toBeUndefined();
    expect(calls[1]!.query.page_token).toEqual(expect.any(String));
    expect((await q(h, 'select count(*)::int as n from organization_members where deleted_at is null'))[0].n).toBe(122);
    const leaving = org.members[5]!;
    h.w.removeOrgMember(org.org.id, leaving.id);
    succeeded((await sync(h, 'organizations:default'))[0]!);
    expect(await q(h, 'select member_id from organization_members where deleted_at is not null')).toEqual([{ member_id: leaving.id }]);
  });
});

describe('a listing the credential cannot read', () => {
  it('403 on user groups: forbidden with the reason, earlier rows kept, never read as "no groups"', async () => {
    const h = await harness();
    const a = h.account;
    const stream = `user-groups:${a}`;
    succeeded((await sync(h, stream))[0]!);
    h.w.denyListing('default', 'user-groups');
    const o = succeeded((await sync(h, stream))[0]!);
    expect(o.counts.note).toContain('forbidden');
    const row = await listing(h, `account:${a}`, 'user-groups');
    expect(row).toMatchObject({ state: 'forbidden', credential: 'default', completed: true });
    expect(row.reason).toMatch(/^HTTP 403: .*Authentication error.*code 10000/);
    expect((await listing(h, `account:${a}`, 'user-group-members')).state).toBe('forbidden');
    expect((await q(h, 'select count(*)::int as n from user_groups where deleted_at is null'))[0].n).toBe(3);
    expect((await q(h, 'select count(*)::int as n from user_group_members where deleted_at is null'))[0].n).toBe(4);
  });

  it('a token provisioner: its account-token listing is partial, the view of the provisioner, and deletes only its own tokens', async () => {
    const h = await harness();
    const a = h.account;
    const prov = h.sim.issueCredential({ kind: 'account-token', account: a, provisioner: true });
    if (prov.kind !== 'account-token') throw new Error('account token expected');
    const made = h.w.addProvisionedToken(a, prov.tokenId);
    // First the whole account, read by the default (user) credential.
    succeeded((await sync(h, `account-tokens:${a}`))[0]!);
    expect((await listing(h, `account:${a}`, 'account-tokens'))).toMatchObject({ state: 'complete', view_of: 'account' });
    const all = (await q(h, 'select count(*)::int as n from api_tokens where account_id = $1 and deleted_at is null', [a]))[0].n;
    const ctx = testContext(h.db, h.sim, { LOG_LEVEL: 'info' }, [{ name: 'provisioner', apiToken: prov.value, accounts: [a] }]);
    succeeded(outcomeOf(await syncAll(ctx, { streams: [`account-tokens:${a}`] }), `account-tokens:${a}`));
    expect(await listing(h, `account:${a}`, 'account-tokens')).toMatchObject({ state: 'partial', view_of: `provisioner:${prov.tokenId}`, credential: 'provisioner', completed: true });
    // Tokens it cannot see are not gone.
    expect((await q(h, 'select count(*)::int as n from api_tokens where account_id = $1 and deleted_at is null', [a]))[0].n).toBe(all);
    h.sim.world.removeToken(made.id);
    succeeded(outcomeOf(await syncAll(ctx, { streams: [`account-tokens:${a}`] }), `account-tokens:${a}`));
    expect(await q(h, 'select id from api_tokens where deleted_at is not null')).toEqual([{ id: made.id }]);
  });
});
