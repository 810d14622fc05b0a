import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRow } from '../../src/access/rows.js';
import { whoCan } from '../../src/access/who-can.js';
import { reviewDiffCommand } from '../../src/commands/review-diff.js';
import { startReview } from '../../src/review/start.js';
import { memberNoRoles } from '../../src/rules/member-no-roles.js';
import { tooManySuperAdmins } from '../../src/rules/too-many-super-admins.js';
import { groupByName, roleByName } from '../../src/simulator/catalog.js';
import { type IssuedCredential, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { accessWorld } from '../helpers/access-world.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';
import { evaluate, hitOf, keysOf } from '../helpers/rules.js';

// Issue 18's Done-when world, through the simulator and the real streams: one person edits DNS in a
// zone directly, one through a user group, one through an organization, one is denied by a deny
// policy, and the credential's own user holds a user token wider than its access.

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let acct: string;
const ids: Record<string, string> = {};
const creds: IssuedCredential[] = [];

const sync = async () => {
  const outcomes = await syncAll(ctx, { streams: INVENTORY_KINDS });
  expect(outcomes.filter((o) => o.status !== 'succeeded' && o.status !== 'not-applicable').map((o) => `${o.stream}: ${o.status}`)).toEqual([]);
};
const tuple = (r: AccessRow) =>
  [r.principal, r.access, r.permission_group_name, r.resource_kind, r.zone_name ?? '-', r.path,
    r.group_name ?? (r.organization_id ? 'org' : null) ?? r.policy_id ?? '-', r.effective ? 'effective' : `not: ${r.not_effective_reason}`].join(' | ');

beforeAll(async () => {
  db = await createTestDatabase();
  // Two users: the owner (user 0, whose credential is `default`) and carol (user 1, credential `carol`). An
  // organization is listed only to its active members, so carol's credential is what reads hers.
  sim = await startSimulator({ seed: 18, size: { accounts: 2, users: 2, extraUserTokens: 0, userTokens: 0, accountTokensPerAccount: 0, membersPerAccount: 1, userInvites: 0 }, rateLimit: false });
  const w = accessWorld(sim);
  acct = w.account(1);
  const zone = w.addZone(acct, 'shop.test');
  w.addMember(acct, { email: 'alice@shop.test', roles: ['DNS'] });
  const bob = w.addMember(acct, { email: 'bob@shop.test' });
  const team = w.addUserGroup(acct, { name: 'DNS Team', policies: [{ permissionGroups: ['DNS'], zones: ['shop.test'] }] });
  w.addGroupMember(team.id, bob.id);
  const dave = w.addMember(acct, { email: 'dave@shop.test', policies: [{ permissionGroups: ['DNS'] }, { access: 'deny', permissionGroups: ['DNS'] }] });
  const frank = w.addMember(acct, { email: 'frank@shop.test', roles: ['Analytics'] });
  // Members of the account as users: the same user id as the user object (what bounds their tokens), Analytics only.
  const asUser = (u: { id: string; email: string }) => {
    const m = sim.world.members(acct).find((x) => x.user.email === u.email)!;
    sim.world.updateMember(acct, m.id, { roles: [roleByName('Analytics')], user: { ...m.user, id: u.id } });
    return m;
  };
  const carol = sim.world.users[1]!.user;
  asUser(carol);
  w.addOrganization({ name: 'Shop Org', accounts: [acct], members: [{ email: carol.email, userId: carol.id }] });
  // The owner holds a DNS Write token on the zone, wider than its Analytics membership.
  asUser(sim.world.user);
  const dnsWrite = groupByName('DNS Write');
  sim.world.addUserToken({ name: 'owner-dns', policies: [{ id: 'tp1', effect: 'allow', permission_groups: [{ id: dnsWrite.id, name: dnsWrite.name }],
    resources: { [`com.cloudflare.api.account.zone.${zone.id}`]: '*' } }] } as never);
  Object.assign(ids, { team: team.id, dave: dave.id, davePolicy: dave.policies[0]!.id, daveDeny: dave.policies[1]!.id, bob: bob.id, frank: frank.id,
    owner: sim.world.user.email, carol: carol.email, teamPolicy: team.policies[0]!.id });
  const token = (c: IssuedCredential) => (c.kind === 'global-key' ? '' : c.value);
  creds.push(sim.issueCredential({ kind: 'user-token', user: 0 }), sim.issueCredential({ kind: 'user-token', user: 1 }));
  ctx = testContext(db, sim, { LOG_LEVEL: 'info' }, [{ name: 'default', apiToken: token(creds[0]!) }, { name: 'carol', apiToken: token(creds[1]!) }]);
  await sync();
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('the Done-when world through the simulator', () => {
  it('access who-can dns:edit on the zone returns exactly the direct, the group and the organization holder, each with its path', async () => {
    const r = await whoCan(db.db, { permission: 'dns:edit', zone: 'shop.test' });
    expect(r.rows.map((x) => [x.principal, x.path, x.group_name ?? x.permission_group_name])).toEqual([
      ['alice@shop.test', 'role', 'DNS'],
      ['bob@shop.test', 'group', 'DNS Team'],
      [ids.carol, 'organization', 'Super Administrator - All Privileges'],
    ]);
    expect(r.incomplete).toEqual([]);
  });

  it('effective_access agrees row for row with the hand-worked answer', async () => {
    const all = (await db.pool.query<AccessRow>(`select * from effective_access where account_id = $1`, [acct])).rows;
    // The two credentials' own read-only tokens: account-level reads, unmapped in the vocabulary, so within any owner's access.
    const own = all.filter((r) => r.principal === 'flarewatch read-only');
    expect(own.map((r) => `${r.permission_group_name} ${r.effective}`).sort()).toEqual(
      ['Account API Tokens Read', 'Account Analytics Read', 'Account Settings Read'].flatMap((g) => [`${g} true`, `${g} true`]));
    const rows = all.filter((r) => r.principal !== 'flarewatch read-only');
    expect(rows.map(tuple).sort()).toEqual([
      'alice@shop.test | allow | DNS | account | - | role | - | effective',
      'bob@shop.test | allow | DNS | zone | shop.test | group | DNS Team | effective',
      `${ids.carol} | allow | Super Administrator - All Privileges | account | - | organization | org | effective`,
      `${ids.carol} | allow | Analytics | account | - | role | - | effective`,
      `${ids.carol} | allow | Administrator Read Only | account | - | group | Support | effective`,
      `dave@shop.test | allow | DNS | account | - | policy | ${ids.davePolicy} | not: denied by member policy ${ids.daveDeny}`,
      `dave@shop.test | deny | DNS | account | - | policy | ${ids.daveDeny} | not: deny policy: removes DNS here from every path`,
      'frank@shop.test | allow | Analytics | account | - | role | - | effective',
      `owner-dns | allow | DNS Write | zone | shop.test | token | tp1 | not: beyond owner's access: the owner does not hold DNS Write here`,
      `${ids.owner} | allow | Analytics | account | - | role | - | effective`,
    ].sort());
    expect(all.every((r) => r.picture_complete && r.picture_missing.length === 0)).toBe(true);
  });

  it('member-no-roles does not flag the member whose access is only through a group', async () => {
    const hits = await evaluate(memberNoRoles, { db: db.db, config: ctx.config });
    expect(keysOf(hits)).not.toContain(`member:${acct}:${ids.bob}`);
    // dave's only allow is denied: no access at all, and the picture is complete.
    expect(hitOf(hits, `member:${acct}:${ids.dave}`).facts).toMatchObject({ picture_complete: true });
  });

  it('too-many-super-admins counts a Super Administrator through a policy, a group and an organization', async () => {
    const w = accessWorld(sim);
    const sam = w.addMember(acct, { email: 'sam@shop.test', policies: [{ permissionGroups: ['Super Administrator - All Privileges'] }] });
    const gina = w.addMember(acct, { email: 'gina@shop.test' });
    const supers = w.addUserGroup(acct, { name: 'Supers', policies: [{ permissionGroups: ['Super Administrator - All Privileges'] }] });
    w.addGroupMember(supers.id, gina.id);
    await sync();
    const hit = hitOf(await evaluate(tooManySuperAdmins, { db: db.db, config: ctx.config }), `account:${acct}`);
    expect(hit.facts).toMatchObject({ super_admins: 3, members: [ids.carol, 'gina@shop.test', 'sam@shop.test'].sort() });
    w.removeUserGroup(supers.id);
    sim.world.removeMember?.(acct, sam.id);
  });
});

describe('a review before and after adding a member to a group', () => {
  it('review diff shows the path that appeared; effective_access_at between the two returns the older picture', async () => {
    await sync();
    const first = await startReview(ctx, { name: 'before', accounts: [acct] });
    const between = new Date();
    await new Promise((r) => setTimeout(r, 20));
    accessWorld(sim).addGroupMember(ids.team!, ids.frank!);
    await sync();
    const second = await startReview(ctx, { name: 'after', accounts: [acct] });
    const diff = await reviewDiffCommand({ db: db.db }, { review: second.id, against: first.id });
    expect(diff.output).toContain(`~ member member:${acct}:${ids.frank} (frank@shop.test)`);
    expect(diff.output).toContain(`    access: now also DNS via group DNS Team, policy ${ids.teamPolicy} on zone shop.test`);

    const frankAt = async (t: Date) => (await db.db.execute<AccessRow>(sql`
      select * from effective_access_at(${t.toISOString()}::timestamptz) where principal = 'frank@shop.test'`)).rows.map(tuple).sort();
    expect(await frankAt(between)).toEqual(['frank@shop.test | allow | Analytics | account | - | role | - | effective']);
    expect(await frankAt(new Date())).toEqual([
      'frank@shop.test | allow | Analytics | account | - | role | - | effective',
      'frank@shop.test | allow | DNS | zone | shop.test | group | DNS Team | effective',
    ]);
  });

  it('a forbidden user-group listing makes every answer for the account incomplete, by name', async () => {
    for (const c of creds) accessWorld(sim).denyListing(c, 'user-groups');
    await syncAll(ctx, { streams: INVENTORY_KINDS });
    const r = await whoCan(db.db, { permission: 'dns:edit', zone: 'shop.test' });
    expect(r.incomplete).toHaveLength(1);
    expect(r.incomplete[0]!.missing.join('; ')).toMatch(/^user-group-members forbidden \(HTTP 403.*; user-groups forbidden \(HTTP 403/);
    expect(r.rows.every((x) => !x.picture_complete)).toBe(true);
    // What the forbidden listing had shown stays (never read as "no groups"): bob still edits DNS through his group.
    expect(r.rows.map((x) => x.principal)).toContain('bob@shop.test');
  });
});
