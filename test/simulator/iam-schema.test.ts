import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { accessWorld } from '../helpers/access-world.js';
import { auth, get, spec, validatorsOf } from './helpers.js';

// Every GET the simulator answers for access paths, checked against openapi-iam.json (test/fixtures/cloudflare-api).
const iam = JSON.parse(readFileSync(new URL('../fixtures/cloudflare-api/openapi-iam.json', import.meta.url), 'utf8')) as typeof spec;
const validatorFor = validatorsOf(iam, 'iam');

let sim: Simulator;
beforeAll(async () => { sim = await startSimulator({ seed: 7 }); });
afterAll(async () => { await sim.close(); });

const NEW_PATHS = [
  '/accounts/{account_id}/iam/user_groups', '/accounts/{account_id}/iam/user_groups/{user_group_id}',
  '/accounts/{account_id}/iam/user_groups/{user_group_id}/members', '/accounts/{account_id}/iam/user_groups/{user_group_id}/members/{member_id}',
  '/accounts/{account_id}/iam/resource_groups', '/accounts/{account_id}/iam/resource_groups/{resource_group_id}',
  '/accounts/{account_id}/iam/permission_groups', '/accounts/{account_id}/iam/permission_groups/{permission_group_id}',
  '/zones', '/zones/{zone_id}', '/organizations', '/organizations/{organization_id}', '/organizations/{organization_id}/members',
  '/organizations/{organization_id}/members/{member_id}', '/organizations/{organization_id}/accounts',
  '/accounts/{account_id}/members', '/accounts/{account_id}/members/{member_id}', '/accounts/{account_id}/tokens',
];

describe('access-path answers validate against openapi-iam.json', () => {
  it('every new GET (and members with policies, deny included) answers 200 and validates', async () => {
    const a = sim.world.accounts[0]!.id;
    const access = sim.world.access;
    const group = access.userGroups(a).find((g) => g.name === 'Platform Admins')!;
    const member = access.groupMembers(a, group.id)[0]!.member;
    const org = access.orgs[0]!;
    const fill: Record<string, string> = {
      '{account_id}': a, '{user_group_id}': group.id, '{resource_group_id}': access.resourceGroups(a)[0]!.id,
      '{permission_group_id}': (await get(sim, `/accounts/${a}/iam/permission_groups`)).body.result[0].id,
      '{zone_id}': sim.world.zones.get(a)![0]!.id, '{organization_id}': org.org.id,
    };
    for (const path of NEW_PATHS) {
      let url = path.replace(/\{[a-z_]+\}/g, (k) => fill[k] ?? k);
      if (path.endsWith('/user_groups/{user_group_id}/members/{member_id}')) url = url.replace('{member_id}', member.id);
      if (path.startsWith('/organizations/') && path.endsWith('{member_id}')) url = url.replace('{member_id}', org.members[0]!.id);
      if (path === '/accounts/{account_id}/members/{member_id}') url = url.replace('{member_id}', sim.world.members(a)[1]!.id);
      if (path === '/zones') url += `?account.id=${a}`;
      const res = await get(sim, url);
      expect(res.status, url).toBe(200);
      expect(validatorFor(path, '200')(res.body), url).toEqual([]);
    }
    const members = (await get(sim, `/accounts/${a}/members?per_page=50`)).body.result as Array<{ policies: Array<{ access: string }> }>;
    expect(members.some((m) => m.policies.some((p) => p.access === 'deny'))).toBe(true);
  });

  it('the seeded world: groups, a zone-scoped resource group, named zones, an organization owning the first account', async () => {
    const [a, b] = sim.world.accounts;
    const groups = (await get(sim, `/accounts/${a!.id}/iam/user_groups`)).body;
    expect(groups.result.map((g: { name: string }) => g.name)).toEqual(['Auditors', 'DNS Editors', 'Platform Admins']);
    expect(groups.result_info).toMatchObject({ page: 1, per_page: 100, count: 3, total_count: 3 });
    const admins = groups.result.find((g: { name: string }) => g.name === 'Platform Admins');
    expect(admins.policies[0].permission_groups[0].name).toBe('Super Administrator - All Privileges');
    const rgs = (await get(sim, `/accounts/${a!.id}/iam/resource_groups`)).body;
    expect(rgs).not.toHaveProperty('result_info');
    const zoneKey = `com.cloudflare.api.account.zone.${sim.world.zones.get(a!.id)![0]!.id}`;
    expect(rgs.result.some((r: { scope: { objects: Array<{ key: string }> } }) => r.scope.objects.some((o) => o.key === zoneKey))).toBe(true);
    const zones = (await get(sim, `/zones?account.id=${b!.id}&per_page=5`)).body;
    expect(zones.result.map((z: { status: string }) => z.status).sort()).toEqual(['active', 'active', 'pending']);
    expect(zones.result[0].account).toEqual({ id: b!.id, name: b!.name });
    const account = (await get(sim, `/accounts/${a!.id}`)).body.result;
    expect(account.managed_by.parent_org_id).toBe(sim.world.access.orgs[0]!.org.id);
    // Same seed, same world.
    const again = await startSimulator({ seed: 7 });
    try {
      // Same seed, same ids, names and policies (times are relative to the clock, as everywhere in the world).
      const shape = (body: { result: Array<Record<string, unknown>> }) => body.result.map(({ created_on: _c, modified_on: _m, ...rest }) => rest);
      expect(shape((await get(again, `/accounts/${a!.id}/iam/user_groups`)).body)).toEqual(shape(groups));
    } finally { await again.close(); }
  });

  it('pages: group members (per_page 1–500), permission groups (5–50), organizations by page_token', async () => {
    const w = accessWorld(sim);
    const a = w.account(0);
    const g = w.addUserGroup(a, { name: 'Big', policies: [{ permissionGroups: ['DNS Write'] }] });
    for (const m of sim.world.members(a)) w.addGroupMember(g.id, m.id);
    const total = sim.world.members(a).length;
    const p1 = (await get(sim, `/accounts/${a}/iam/user_groups/${g.id}/members?per_page=4`)).body;
    expect(p1.result_info).toMatchObject({ page: 1, per_page: 4, count: 4, total_count: total });
    const emails = p1.result.map((m: { email: string }) => m.email);
    expect([...emails].sort()).toEqual(emails);
    expect((await get(sim, `/accounts/${a}/iam/user_groups/${g.id}/members?per_page=501`)).status).toBe(400);
    expect((await get(sim, `/accounts/${a}/iam/permission_groups?per_page=4`)).status).toBe(400);
    for (let i = 0; i < 3; i++) w.addOrganization({ name: `Org ${i}`, members: [{ email: sim.world.user.email }] });
    const first = (await get(sim, '/organizations?page_size=2')).body;
    expect(first.result).toHaveLength(2);
    expect(first.result_info.total_size).toBe(4);
    const second = (await get(sim, `/organizations?page_size=2&page_token=${first.result_info.next_page_token}`)).body;
    expect(second.result).toHaveLength(2);
    expect(second.result_info).not.toHaveProperty('next_page_token');
    expect(validatorFor('/organizations', '200')(second)).toEqual([]);
    expect((await get(sim, '/organizations?page_token=bogus')).status).toBe(400);
  });

  it('refusals validate: a denied listing (403 with code), organizations for an account token, an unknown group', async () => {
    const other = await startSimulator({ seed: 9, extraCredentials: [{ kind: 'account-token', account: 0 }, { kind: 'user-token' }] });
    try {
      const [acctToken, userToken] = other.extraCredentials;
      const a = other.world.accounts[0]!.id;
      accessWorld(other).denyListing(userToken!, 'user-groups');
      const denied = await get(other, `/accounts/${a}/iam/user_groups`, auth(userToken!));
      expect(denied.status).toBe(403);
      expect(denied.body.errors[0].code).toBe(10000);
      expect(validatorFor('/accounts/{account_id}/iam/user_groups', '4XX')(denied.body)).toEqual([]);
      expect((await get(other, `/accounts/${a}/iam/user_groups`)).status).toBe(200);
      const orgs = await get(other, '/organizations', auth(acctToken!));
      expect(orgs.status).toBe(403);
      expect(validatorFor('/organizations', '4XX')(orgs.body)).toEqual([]);
      other.world.access.orgsForAccountTokens = true;
      expect((await get(other, '/organizations', auth(acctToken!))).body.result).toHaveLength(1);
      const missing = await get(other, `/accounts/${a}/iam/user_groups/${'0'.repeat(32)}`);
      expect(missing.status).toBe(404);
      expect(validatorFor('/accounts/{account_id}/iam/user_groups/{user_group_id}', '4XX')(missing.body)).toEqual([]);
    } finally { await other.close(); }
  });

  it('a provisioner sees only the account tokens it created', async () => {
    const other = await startSimulator({ seed: 9, extraCredentials: [{ kind: 'account-token', account: 0, provisioner: true }] });
    try {
      const [prov] = other.extraCredentials;
      if (prov?.kind !== 'account-token') throw new Error('expected an account token');
      const a = other.world.accounts[0]!.id;
      const made = accessWorld(other).addProvisionedToken(a, prov.tokenId);
      const seen = (await get(other, `/accounts/${a}/tokens`, auth(prov))).body.result;
      expect(seen.map((t: { id: string }) => t.id)).toEqual([made.id]);
      expect(seen[0]).toMatchObject({ provisioner_type: 'token', provisioner_id: prov.tokenId });
      expect((await get(other, `/accounts/${a}/tokens`)).body.result.length).toBeGreaterThan(1);
    } finally { await other.close(); }
  });
});
