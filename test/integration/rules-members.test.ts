import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account2faNotEnforced } from '../../src/rules/account-2fa-not-enforced.js';
import { invite2faMismatch } from '../../src/rules/invite-2fa-mismatch.js';
import { invitePending } from '../../src/rules/invite-pending.js';
import { inviteStale } from '../../src/rules/invite-stale.js';
import { memberNo2fa } from '../../src/rules/member-no-2fa.js';
import { memberNoRoles } from '../../src/rules/member-no-roles.js';
import { tooManySuperAdmins } from '../../src/rules/too-many-super-admins.js';
import { roleByName } from '../../src/simulator/catalog.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { Member } from '../../src/simulator/inventory.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';
import { DAY_MS, daysFromNow, evaluate, hitOf, keysOf } from '../helpers/rules.js';

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
/** Fixture member ids (and their account) by label (their email's local part). */
const ids: Record<string, { account: string; id: string }> = {};
/** The documented member key: `member:<account id>:<member id>`. */
const member = (label: string) => `member:${ids[label]!.account}:${ids[label]!.id}`;
const invite = (id: string) => `invite:${id}`;
let enforcing: string;
let lax: string;

function person(label: string, opts: { status?: Member['status']; twoFactor?: boolean; roles?: string[]; policies?: Member['policies'] } = {}): Partial<Member> {
  const email = `${label}@example.com`;
  return {
    email, status: opts.status ?? 'accepted',
    user: { id: `u-${label}`, email, first_name: label, last_name: null, two_factor_authentication_enabled: opts.twoFactor ?? true },
    roles: (opts.roles ?? ['DNS']).map(roleByName),
    policies: opts.policies ?? [],
  };
}

const userInvite = (id: string, opts: { enforces: boolean; invitedDaysAgo: number; status?: string }) => ({
  id, invited_member_id: null, invited_member_email: sim.world.user.email, organization_id: `org-${id}`, organization_name: `Org ${id}`,
  organization_is_enforcing_twofactor: opts.enforces, invited_by: 'someone@example.com', invited_on: daysFromNow(-opts.invitedDaysAgo),
  expires_on: daysFromNow(7 - opts.invitedDaysAgo), roles: ['Administrator'], status: opts.status ?? 'pending',
});

beforeAll(async () => {
  db = await createTestDatabase();
  // Each account starts with its owner only (accepted super administrator with 2FA); account 0 enforces 2FA, account 1 not.
  sim = await startSimulator({ seed: 21, size: { accounts: 2, userTokens: 1, accountTokensPerAccount: 0, membersPerAccount: 1, userInvites: 0, organizations: 1 }, rateLimit: false });
  const w = sim.world;
  [enforcing, lax] = [w.accounts[0]!.id, w.accounts[1]!.id];
  expect(w.account(enforcing)!.settings.enforce_twofactor).toBe(true);
  expect(w.account(lax)!.settings.enforce_twofactor).toBe(false);
  const add = (accountId: string, label: string, opts: Parameters<typeof person>[1]) => { ids[label] = { account: accountId, id: w.addMember(accountId, person(label, opts)).id }; };
  // Account that enforces 2FA: two super admins (at the limit), members without 2FA in several roles, pending invitations.
  add(enforcing, 'admin-no2fa', { twoFactor: false, roles: ['Administrator'] });
  add(enforcing, 'dns-no2fa', { twoFactor: false, roles: ['DNS'] });
  add(enforcing, 'readonly-admin-no2fa', { twoFactor: false, roles: ['Administrator Read Only'] });
  add(enforcing, 'pending-no2fa', { status: 'pending', twoFactor: false });
  add(enforcing, 'pending-2fa', { status: 'pending', twoFactor: true });
  add(enforcing, 'no-roles', { roles: [] });
  add(enforcing, 'policy-only', { roles: [], policies: [{ id: 'p1', access: 'allow', permission_groups: [{ id: 'g', name: 'DNS Read' }], resource_groups: [] }] });
  add(enforcing, 'super-2', { roles: ['Super Administrator - All Privileges'] });
  // Account that does not enforce 2FA: three accepted super admins plus a pending one.
  add(lax, 'super-b2', { roles: ['Super Administrator - All Privileges'] });
  add(lax, 'super-b3', { roles: ['Super Administrator - All Privileges'], twoFactor: false });
  add(lax, 'super-b-pending', { status: 'pending', roles: ['Super Administrator - All Privileges'] });
  add(lax, 'pending-b-no2fa', { status: 'pending', twoFactor: false });
  // Invitations addressed to the credential's user, who has no 2FA.
  w.user.two_factor_authentication_enabled = false;
  w.userInvites.push(userInvite('inv-enforcing-new', { enforces: true, invitedDaysAgo: 3 }), userInvite('inv-lax-old', { enforces: false, invitedDaysAgo: 20 }),
    userInvite('inv-expired', { enforces: true, invitedDaysAgo: 30, status: 'expired' }));
  ctx = testContext(db, sim);
  const outcomes = await syncAll(ctx, { streams: INVENTORY_KINDS });
  expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

const env = (now = new Date()) => ({ db: db.db, config: ctx.config, now });

describe('member and account rules', () => {
  it('member-no-2fa: accepted members holding administrative access (read-only is not), high; scope all adds the rest', async () => {
    const hits = await evaluate(memberNo2fa, env());
    expect(keysOf(hits)).toEqual([member('admin-no2fa'), member('super-b3')].sort());
    expect(hitOf(hits, member('admin-no2fa'))).toMatchObject({ severity: 'high', accountId: enforcing, facts: { admin: true, roles: ['Administrator'], admin_via: ['Administrator via role'] } });
    expect(hitOf(hits, member('super-b3')).severity).toBe('high');
    const all = await evaluate(memberNo2fa, env(), { scope: 'all' });
    expect(keysOf(all)).toEqual([member('admin-no2fa'), member('dns-no2fa'), member('readonly-admin-no2fa'), member('super-b3')].sort());
    expect(hitOf(all, member('dns-no2fa')).severity).toBeUndefined();
    expect(hitOf(all, member('readonly-admin-no2fa')).severity).toBeUndefined();
  });

  it('account-2fa-not-enforced: the account without enforcement, with its members lacking 2FA', async () => {
    const hits = await evaluate(account2faNotEnforced, env());
    expect(keysOf(hits)).toEqual([`account:${lax}`]);
    expect(hits[0]!.facts).toMatchObject({ enforce_twofactor: false, accepted_members: 3, members_without_2fa: 1 });
  });

  it('too-many-super-admins: more than 2 accepted per account; pending ones reported, not counted', async () => {
    const hits = await evaluate(tooManySuperAdmins, env());
    expect(keysOf(hits)).toEqual([`account:${lax}`]);
    expect(hits[0]!.facts).toMatchObject({ super_admins: 3, max: 2, pending_super_admins: 1 });
    expect(keysOf(await evaluate(tooManySuperAdmins, env(), { max: 1 }))).toEqual([`account:${enforcing}`, `account:${lax}`].sort());
  });

  it('member-no-roles: no access on any path (a policy-only member has access); an incomplete picture reports at info', async () => {
    const hits = await evaluate(memberNoRoles, env());
    expect(keysOf(hits)).toEqual([member('no-roles')]);
    // This simulator world records no access listings yet: the picture is incomplete, and the hit says so.
    expect(hits[0]).toMatchObject({ severity: 'info', facts: { picture_complete: false } });
  });
});

describe('invitation rules', () => {
  const pendingMembers = () => [member('pending-no2fa'), member('pending-2fa'), member('super-b-pending'), member('pending-b-no2fa')];

  it('invite-pending: pending user invites and pending members, not expired invites', async () => {
    const hits = await evaluate(invitePending, env());
    expect(keysOf(hits)).toEqual([...pendingMembers(), invite('inv-enforcing-new'), invite('inv-lax-old')].sort());
    expect(hitOf(hits, invite('inv-lax-old')).facts).toMatchObject({ kind: 'user_invite', pending_since_source: 'invited_on', age_days: 20 });
    expect(hitOf(hits, member('pending-2fa')).facts).toMatchObject({ kind: 'pending_member', pending_since_source: 'first_seen_at', age_days: 0 });
  });

  it('invite-stale: older than 14 days by invited_on; pending members by first sight', async () => {
    expect(keysOf(await evaluate(inviteStale, env()))).toEqual([invite('inv-lax-old')]);
    // Three weeks later, members first seen today are stale too (and both invites).
    const later = await evaluate(inviteStale, env(new Date(Date.now() + 21 * DAY_MS)));
    expect(keysOf(later)).toEqual([...pendingMembers(), invite('inv-enforcing-new'), invite('inv-lax-old')].sort());
    expect(hitOf(later, member('pending-2fa')).facts).toMatchObject({ pending_since_source: 'first_seen_at', age_days: 21 });
  });

  it('invite-2fa-mismatch: 2FA-enforcing organisation or account, invitee without 2FA', async () => {
    const hits = await evaluate(invite2faMismatch, env());
    expect(keysOf(hits)).toEqual([invite('inv-enforcing-new'), member('pending-no2fa')].sort());
    expect(hitOf(hits, invite('inv-enforcing-new')).facts).toMatchObject({ enforced_by: 'organization' });
    expect(hitOf(hits, member('pending-no2fa')).facts).toMatchObject({ enforced_by: 'account' });
  });

  it('invite-2fa-mismatch: no user-invite hit once the user has 2FA', async () => {
    await db.pool.query(`update users set two_factor_enabled = true`);
    try {
      expect(keysOf(await evaluate(invite2faMismatch, env()))).toEqual([member('pending-no2fa')]);
    } finally {
      await db.pool.query(`update users set two_factor_enabled = false`);
    }
  });
});

describe('invitation age from the audit log (pending_invitations)', () => {
  // Invite events written straight into the archive: what is under test is the view's matching.
  const event = (e: { source: string; id: string; daysAgo: number; account: string; resourceId: string; email?: string; result?: string; action?: string; actor?: string; offsetMs?: number }) => ({
    ...e, at: new Date(Date.now() - e.daysAgo * DAY_MS + (e.offsetMs ?? 0)).toISOString(),
  });
  const events = () => [
    // pending-no2fa: by member id; the latest of two, the same event also in the account's v1 log (one event).
    event({ source: 'account_v2', id: 'v2-old', daysAgo: 20, account: enforcing, resourceId: ids['pending-no2fa']!.id }),
    event({ source: 'account_v2', id: 'v2-new', daysAgo: 10, account: enforcing, resourceId: ids['pending-no2fa']!.id }),
    event({ source: 'account_v1', id: 'v1-new', daysAgo: 10, account: enforcing, resourceId: ids['pending-no2fa']!.id, offsetMs: 400 }),
    // pending-2fa: by the invited email in its account (another resource id); a later failed attempt and the
    // same email in the other account do not count.
    event({ source: 'account_v2', id: 'v2-email', daysAgo: 15, account: enforcing, resourceId: 'other-id', email: 'Pending-2FA@example.com' }),
    event({ source: 'account_v2', id: 'v2-failed', daysAgo: 5, account: enforcing, resourceId: 'other-id', email: 'pending-2fa@example.com', result: 'failure' }),
    event({ source: 'account_v2', id: 'v2-elsewhere', daysAgo: 3, account: lax, resourceId: 'other-id-2', email: 'pending-2fa@example.com' }),
    // pending-b-no2fa: an addition dated after flarewatch saw it pending is a later one; a role change is not an invite.
    event({ source: 'account_v2', id: 'v2-after', daysAgo: -1, account: lax, resourceId: ids['pending-b-no2fa']!.id }),
    event({ source: 'account_v2', id: 'v2-update', daysAgo: 8, account: lax, resourceId: ids['pending-b-no2fa']!.id, action: 'update' }),
  ];

  beforeAll(async () => {
    const rows = events();
    for (const month of new Set(rows.map((r) => `${r.at.slice(0, 7)}-01`))) await db.pool.query(`select flarewatch_ensure_audit_partition($1::date)`, [month]);
    for (const r of rows) {
      await db.pool.query(
        `insert into audit_logs (source, id, event_time, account_id, action_type, action_result, actor_email, actor_type, resource_type, resource_id, raw)
         values ($1, $2, $3, $4, $5, $6, 'admin@example.com', 'user', 'member', $7, $8)`,
        [r.source, r.id, r.at, r.account, r.action ?? (r.source === 'account_v2' ? 'create' : 'member_add'), r.result ?? 'success', r.resourceId,
          JSON.stringify(r.email ? { resource: { request: { email: r.email } } } : {})],
      );
    }
  });

  afterAll(async () => {
    await db.pool.query(`delete from audit_logs where id = any($1)`, [events().map((e) => e.id)]);
  });

  it('dates a pending member by its latest invite event, matched by member id or by email in its account', async () => {
    const hits = await evaluate(invitePending, env());
    expect(hitOf(hits, member('pending-no2fa')).facts).toMatchObject({ pending_since_source: 'audit_log', invite_event: 'account_v2:v2-new', invited_by: 'admin@example.com', age_days: 10 });
    expect(hitOf(hits, member('pending-2fa')).facts).toMatchObject({ pending_since_source: 'audit_log', invite_event: 'account_v2:v2-email', age_days: 15 });
    expect(hitOf(hits, member('pending-b-no2fa')).facts).toMatchObject({ pending_since_source: 'first_seen_at', age_days: 0 });
    expect(hitOf(hits, member('pending-b-no2fa')).facts).not.toHaveProperty('invite_event');
    // An invite event 15 days old makes a member stale (14 days) though flarewatch saw it pending today; 10 days does not.
    expect(keysOf(await evaluate(inviteStale, env()))).toEqual([invite('inv-lax-old'), member('pending-2fa')].sort());
  });
});
