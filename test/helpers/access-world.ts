import type { IssuedCredential, PolicySpec, Simulator } from '../../src/simulator/index.js';
import type { OrgMemberSpec } from '../../src/simulator/index.js';
import { roleByName } from '../../src/simulator/catalog.js';

/**
 * A test states the access paths of its world in a few lines:
 *
 *   const w = accessWorld(sim);
 *   const acct = w.account(0);                                   // id of world.accounts[0]
 *   const rg = w.addResourceGroup(acct, { zones: ['example.com'] });   // or { scopeKey, objectKeys }
 *   const g = w.addUserGroup(acct, { name: 'DNS', policies: [{ permissionGroups: ['DNS Write'], resourceGroups: [rg.id] }] });
 *   const m = w.addMember(acct, { email: 'a@x.test', roles: [], policies: [{ access: 'deny', permissionGroups: ['DNS Write'] }], twoFactor: false });
 *   w.addGroupMember(g.id, m.id);  w.removeGroupMember(g.id, m.id);  w.removeUserGroup(g.id);
 *   w.addZone(acct, 'shop.test');
 *   w.addOrganization({ name: 'Org', accounts: [acct], members: [{ email: 'o@x.test', twoFactor: true }] });
 *   w.denyListing('default', 'user-groups');                     // that credential now gets 403 there
 *   w.allowListing('default', 'user-groups');                    // and reads it again
 *   w.addProvisionedToken(acct, provisioner.tokenId);             // an account token a provisioner created
 *
 * Policies name permission groups (GET /accounts/{id}/iam/permission_groups names: the legacy role names
 * such as 'Super Administrator - All Privileges', and 'DNS Write', 'Zone Read', ...); a policy without
 * resource groups or zones applies to the whole account. Everything is visible to the next request.
 */

/** Listing name (as in access_listings) → the simulator routes a credential needs for it. */
export const LISTING_ROUTES: Record<string, string[]> = {
  'user-groups': ['GET /accounts/:account_id/iam/user_groups', 'GET /accounts/:account_id/iam/user_groups/:user_group_id'],
  'user-group-members': ['GET /accounts/:account_id/iam/user_groups/:user_group_id/members', 'GET /accounts/:account_id/iam/user_groups/:user_group_id/members/:member_id'],
  'resource-groups': ['GET /accounts/:account_id/iam/resource_groups', 'GET /accounts/:account_id/iam/resource_groups/:resource_group_id'],
  'iam-permission-groups': ['GET /accounts/:account_id/iam/permission_groups', 'GET /accounts/:account_id/iam/permission_groups/:permission_group_id'],
  zones: ['GET /zones', 'GET /zones/:zone_id'],
  organizations: ['GET /organizations', 'GET /organizations/:organization_id', 'GET /organizations/:organization_id/members',
    'GET /organizations/:organization_id/members/:member_id', 'GET /organizations/:organization_id/accounts'],
  members: ['GET /accounts/:account_id/members', 'GET /accounts/:account_id/members/:member_id'],
  roles: ['GET /accounts/:account_id/roles', 'GET /accounts/:account_id/roles/:role_id'],
  'account-tokens': ['GET /accounts/:account_id/tokens', 'GET /accounts/:account_id/tokens/:token_id'],
  'user-tokens': ['GET /user/tokens', 'GET /user/tokens/:token_id'],
};

export interface MemberSpec { email: string; roles?: string[]; policies?: PolicySpec[]; twoFactor?: boolean; status?: 'accepted' | 'pending' }

export function accessWorld(sim: Simulator) {
  const { world } = sim;
  const access = world.access;
  const groupAccount = (groupId: string) => {
    const acct = world.accounts.find((a) => access.groupRecord(a.id, groupId));
    if (!acct) throw new Error(`no user group ${groupId}`);
    return acct.id;
  };
  return {
    access,
    account: (index: number) => { const a = world.accounts[index]; if (!a) throw new Error(`no account ${index}`); return a.id; },
    addUserGroup: (accountId: string, spec: { name: string; policies?: PolicySpec[] }) => access.addUserGroup(accountId, spec),
    updateUserGroup: (groupId: string, patch: { name?: string; policies?: PolicySpec[] }) => access.updateUserGroup(groupAccount(groupId), groupId, patch),
    removeUserGroup: (groupId: string) => access.removeUserGroup(groupAccount(groupId), groupId),
    addGroupMember: (groupId: string, memberId: string) => access.addGroupMember(groupAccount(groupId), groupId, memberId),
    removeGroupMember: (groupId: string, memberId: string) => access.removeGroupMember(groupAccount(groupId), groupId, memberId),
    addResourceGroup: (accountId: string, spec: { name?: string; scopeKey?: string; objectKeys?: string[]; zones?: string[] }) =>
      access.addResourceGroup(accountId, spec),
    /** An accepted account member with legacy roles (by name), policies and 2FA as stated. */
    addMember: (accountId: string, spec: MemberSpec) => {
      const m = world.addMember(accountId, {
        email: spec.email, status: spec.status ?? 'accepted', roles: (spec.roles ?? []).map(roleByName),
        policies: (spec.policies ?? []).map((p) => ({ ...access.policy(accountId, p) })),
      });
      return world.updateMember(accountId, m.id, { user: { ...m.user, email: spec.email, two_factor_authentication_enabled: spec.twoFactor ?? true } });
    },
    addZone: (accountId: string, name: string, status?: string) => access.addZone(accountId, name, status),
    addOrganization: (spec: { name: string; accounts?: string[]; members?: OrgMemberSpec[] }) => access.addOrganization(spec),
    addOrgMember: (orgId: string, spec: OrgMemberSpec) => access.addOrgMember(orgId, spec),
    removeOrgMember: (orgId: string, memberId: string) => access.removeOrgMember(orgId, memberId),
    /** The credential gets 403 (code 10000) on the listing and its detail endpoints from now on. */
    denyListing: (credential: IssuedCredential | 'default', listing: keyof typeof LISTING_ROUTES) => sim.denyRoutes(credential, LISTING_ROUTES[listing]!),
    /** The credential reads the listing again (denyListing lifted). */
    allowListing: (credential: IssuedCredential | 'default', listing: keyof typeof LISTING_ROUTES) => sim.allowRoutes(credential, LISTING_ROUTES[listing]!),
    /** An account token created by the provisioner credential whose token id is given. */
    addProvisionedToken: (accountId: string, provisionerTokenId: string, name = 'provisioned token') =>
      world.addAccountToken(accountId, { name, provisioner_type: 'token', provisioner_id: provisionerTokenId, creator_email_at_creation: world.user.email }),
  };
}

export type AccessWorldApi = ReturnType<typeof accessWorld>;
