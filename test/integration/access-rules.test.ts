import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { accessOnlyViaOrganization } from '../../src/rules/access-only-via-organization.js';
import { denyCancelsAllow } from '../../src/rules/deny-cancels-allow.js';
import { groupAdminTooMany } from '../../src/rules/group-admin-too-many.js';
import { groupNoEffect } from '../../src/rules/group-no-effect.js';
import { memberNo2fa } from '../../src/rules/member-no-2fa.js';
import { memberNoRoles } from '../../src/rules/member-no-roles.js';
import { tokenExceedsOwner } from '../../src/rules/token-exceeds-owner.js';
import { tooManySuperAdmins } from '../../src/rules/too-many-super-admins.js';
import { accessRows, type AccessRows, tokenPolicy, ZONE_KEY } from '../helpers/access-rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { evaluate, hitOf, keysOf } from '../helpers/rules.js';

// The rules that ask "who has X", on hand-worked worlds: each reads effective_access, so access
// through a policy, a group or an organization counts exactly as a role does.

let db: TestDatabase;
let w: AccessRows;
const env = () => ({ db: db.db, config: loadConfig({ DATABASE_URL: db.url }, {}) });
const SUPER = 'Super Administrator - All Privileges';

beforeAll(async () => {
  db = await createTestDatabase();
  w = accessRows(db.pool);
  await w.account('acme', 'Acme');
  await w.zone('z1', 'acme', 'example.com');
  await w.completeListings(['acme']);
  // Super Administrators on four paths: role, own policy, group, organization.
  await w.member({ id: 'm-role', account: 'acme', email: 'role@example.com', roles: [SUPER] });
  await w.member({ id: 'm-policy', account: 'acme', email: 'policy@example.com', policies: [{ id: 'sp', groups: [SUPER] }] });
  await w.member({ id: 'm-grouped', account: 'acme', email: 'grouped@example.com', twoFactor: false });
  await w.group({ id: 'g-supers', account: 'acme', name: 'Supers', policies: [{ id: '1', groups: [SUPER] }] });
  await w.groupMember('g-supers', 'm-grouped', 'acme');
  await w.organization({ id: 'org1', accounts: ['acme'], members: [{ id: 'om-carol', userId: 'u-carol', email: 'carol@example.com' }] });
  // A member with nothing at all, and one whose only access is a deny-cancelled own policy.
  await w.member({ id: 'm-none', account: 'acme', email: 'none@example.com' });
  await w.member({ id: 'm-dave', account: 'acme', email: 'dave@example.com',
    policies: [{ id: 'pa', groups: ['DNS'] }, { id: 'pd', access: 'deny', groups: ['DNS'] }] });
  // A group with no members, one whose policy names no permission group.
  await w.group({ id: 'g-empty', account: 'acme', name: 'Empty', policies: [{ id: '2', groups: ['DNS'] }] });
  await w.group({ id: 'g-hollow', account: 'acme', name: 'Hollow', policies: [{ id: '3', groups: [] }] });
  await w.groupMember('g-hollow', 'm-none', 'acme');
  // erin's token asks for more than erin holds.
  await w.member({ id: 'm-erin', account: 'acme', email: 'erin@example.com', userId: 'u-erin', roles: ['Analytics'] });
  await w.token({ id: 't-erin', name: 'erin-dns', ownerType: 'user', userId: 'u-erin', policies: [tokenPolicy('tp', ['DNS Write'], { [ZONE_KEY('z1')]: '*' })] });
});

afterAll(async () => {
  await db?.drop();
});

describe('rules that ask who has X read effective access', () => {
  it('too-many-super-admins counts a Super Administrator through a role, a policy, a group and an organization', async () => {
    const hits = await evaluate(tooManySuperAdmins, env());
    expect(keysOf(hits)).toEqual(['account:acme']);
    expect(hits[0]!.facts).toMatchObject({
      super_admins: 4, max: 2,
      members: ['carol@example.com', 'grouped@example.com', 'policy@example.com', 'role@example.com'],
      via: [
        `carol@example.com: ${SUPER} via organization org1`,
        `grouped@example.com: ${SUPER} via group Supers, policy 1`,
        `policy@example.com: ${SUPER} via own policy sp`,
        `role@example.com: ${SUPER} via role`,
      ],
    });
    expect(keysOf(await evaluate(tooManySuperAdmins, env(), { max: 4 }))).toEqual([]);
  });

  it('member-no-2fa: a member who is administrator only through a group is reported, high, with the path', async () => {
    const hits = await evaluate(memberNo2fa, env());
    expect(keysOf(hits)).toEqual(['member:acme:m-grouped']);
    expect(hitOf(hits, 'member:acme:m-grouped')).toMatchObject({ severity: 'high', facts: { admin_via: [`${SUPER} via group Supers, policy 1`] } });
  });

  it('member-no-roles: the group-only and the organization-held are not flagged; truly none is, and a cancelled allow is none', async () => {
    const hits = await evaluate(memberNoRoles, env());
    expect(keysOf(hits)).toEqual(['member:acme:m-dave', 'member:acme:m-none']);
    expect(hitOf(hits, 'member:acme:m-none').severity).toBeUndefined();
    expect(hitOf(hits, 'member:acme:m-dave').facts).toMatchObject({ picture_complete: true, removed_grants: ['DNS: denied by member policy pd'] });
  });

  it('member-no-roles: with the user-group listing forbidden, a member without visible access is reported at info, naming the listing', async () => {
    await w.listing('account:acme', 'user-groups', 'forbidden', '403');
    try {
      const hit = hitOf(await evaluate(memberNoRoles, env()), 'member:acme:m-none');
      expect(hit).toMatchObject({ severity: 'info', facts: { picture_complete: false, picture_missing: ['user-groups forbidden (403)'] } });
    } finally {
      await w.listing('account:acme', 'user-groups', 'complete');
    }
  });
});

describe('new access rules', () => {
  it('group-admin-too-many: a group making more administrators than the threshold', async () => {
    expect(keysOf(await evaluate(groupAdminTooMany, env()))).toEqual([]);
    const hits = await evaluate(groupAdminTooMany, env(), { max: 0 });
    expect(keysOf(hits)).toEqual(['group:acme:g-supers']);
    expect(hits[0]!.facts).toMatchObject({ members_with_admin: 1, members: ['grouped@example.com'], admin_permission_groups: [SUPER] });
  });

  it('group-no-effect: an empty group and a policy without permission groups; nothing judged where members could not be listed', async () => {
    const hits = await evaluate(groupNoEffect, env());
    expect(keysOf(hits)).toEqual(['group:acme:g-empty', 'group:acme:g-hollow']);
    expect(hitOf(hits, 'group:acme:g-empty').facts).toEqual({ members: 0, reasons: ['no members'] });
    expect(hitOf(hits, 'group:acme:g-hollow').facts).toEqual({ members: 1, reasons: ['policy 3 grants nothing (no permission groups)'] });
    await w.listing('account:acme', 'user-group-members', 'failed', '500');
    try {
      expect(keysOf(await evaluate(groupNoEffect, env()))).toEqual([]);
    } finally {
      await w.listing('account:acme', 'user-group-members', 'complete');
    }
  });

  it('deny-cancels-allow: an allow every grant of which a deny removes', async () => {
    const hits = await evaluate(denyCancelsAllow, env());
    expect(keysOf(hits)).toEqual(['member:acme:m-dave']);
    expect(hits[0]!.facts).toEqual({ cancelled: ['own policy pa: denied by member policy pd'] });
  });

  it('token-exceeds-owner: a user token granting what its owner does not hold', async () => {
    const hits = await evaluate(tokenExceedsOwner, env());
    expect(keysOf(hits)).toEqual(['token:t-erin']);
    expect(hits[0]!.facts).toEqual({ owner_type: 'user', owner: 'u-erin', beyond: ['DNS Write on zone example.com'] });
  });

  it('access-only-via-organization: an organization member with no membership of the account', async () => {
    const hits = await evaluate(accessOnlyViaOrganization, env());
    expect(keysOf(hits)).toEqual(['member:acme:organization-member:org1:om-carol']);
    expect(hits[0]!.facts).toMatchObject({ email: 'carol@example.com', organizations: ['org1'] });
  });
});
