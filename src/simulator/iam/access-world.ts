import { SCOPE_ACCOUNT, SCOPE_ZONE } from '../catalog.js';
import type { Member } from '../inventory.js';
import { hexId, isoSec, rngFor } from '../prng.js';
import type { Zone } from '../tokens.js';
import type { WorldView } from '../world-view.js';
import { iamPermissionGroup } from './catalog.js';
import type { IamPolicy, Organization, OrgMember, OrgMemberSpec, PolicySpec, ResourceGroup, UserGroup } from './types.js';

interface GroupRecord { accountId: string; group: UserGroup; members: Array<{ memberId: string; addedAt: string }> }
export interface OrgRecord { org: Organization; members: OrgMember[]; accountIds: string[] }

const accountKey = (accountId: string) => `${SCOPE_ACCOUNT}.${accountId}`;

/**
 * Who can do what besides roles: user groups and their members, resource groups, organizations, zone
 * statuses. Every mutation is visible to the next request; ids come from the seed and a counter, so a
 * world built by the same calls is the same world.
 */
export class AccessWorld {
  private readonly groups: GroupRecord[] = [];
  private readonly resourceGroupsByAccount = new Map<string, ResourceGroup[]>();
  private readonly zoneStatus = new Map<string, string>();
  readonly orgs: OrgRecord[] = [];
  /** Whether account-owned tokens may list /organizations: undocumented, so a world says (default: 403). */
  orgsForAccountTokens = false;
  private seq = 0;

  constructor(private readonly world: WorldView, private readonly seed: number, private readonly now: () => number) {}

  private rng() { return rngFor(this.seed, 'access', this.seq++); }
  private stamp() { return isoSec(this.now()); }

  // ---- reads (what the routes serve) ----

  userGroups(accountId: string): UserGroup[] { return this.groups.filter((g) => g.accountId === accountId).map((g) => g.group); }
  groupRecord(accountId: string, groupId: string): GroupRecord | undefined {
    return this.groups.find((g) => g.accountId === accountId && g.group.id === groupId);
  }
  /** A group's members as account members (a member removed from the account leaves its groups too). */
  groupMembers(accountId: string, groupId: string): Array<{ member: Member; addedAt: string }> {
    const rec = this.groupRecord(accountId, groupId);
    const members = this.world.members(accountId);
    return (rec?.members ?? []).flatMap((m) => {
      const member = members.find((x) => x.id === m.memberId);
      return member ? [{ member, addedAt: m.addedAt }] : [];
    });
  }
  resourceGroups(accountId: string): ResourceGroup[] { return this.resourceGroupsByAccount.get(accountId) ?? []; }
  zoneStatusOf(zoneId: string): string { return this.zoneStatus.get(zoneId) ?? 'active'; }
  org(orgId: string): OrgRecord | undefined { return this.orgs.find((o) => o.org.id === orgId); }

  // ---- policies and resource groups ----

  /** The account-wide resource group ('*' objects), created on first use like Cloudflare's pre-defined one. */
  accountResourceGroup(accountId: string): ResourceGroup {
    const key = accountKey(accountId);
    const found = this.resourceGroups(accountId).find((r) => r.name === key);
    return found ?? this.addResourceGroup(accountId, { name: key, objectKeys: ['*'] });
  }

  addResourceGroup(accountId: string, spec: { name?: string; scopeKey?: string; objectKeys?: string[]; zones?: string[] }): ResourceGroup {
    this.requireAccount(accountId);
    const zoneKeys = (spec.zones ?? []).map((z) => `${SCOPE_ZONE}.${this.zone(accountId, z).id}`);
    const objects = [...(spec.objectKeys ?? []), ...zoneKeys];
    if (objects.length === 0) throw new Error('a resource group needs at least one scope object ("The number of Scope objects should not be zero.")');
    const rng = this.rng();
    const rg: ResourceGroup = { id: hexId(rng), name: spec.name ?? `resource group ${this.resourceGroups(accountId).length + 1}`,
      meta: { editable: spec.name === accountKey(accountId) ? 'false' : 'true' },
      scope: { key: spec.scopeKey ?? accountKey(accountId), objects: objects.map((key) => ({ key })) } };
    const list = this.resourceGroupsByAccount.get(accountId) ?? [];
    list.push(rg);
    this.resourceGroupsByAccount.set(accountId, list);
    return rg;
  }

  removeResourceGroup(accountId: string, id: string): ResourceGroup {
    const list = this.resourceGroups(accountId);
    const index = list.findIndex((r) => r.id === id);
    if (index < 0) throw new Error(`no resource group ${id}`);
    return list.splice(index, 1)[0]!;
  }

  /** A policy object from its spec (permission groups by name; resource groups by id, or zones, or the whole account). */
  policy(accountId: string, spec: PolicySpec): IamPolicy {
    const rgs = spec.resourceGroups?.length
      ? spec.resourceGroups.map((id) => { const rg = this.resourceGroups(accountId).find((r) => r.id === id); if (!rg) throw new Error(`no resource group ${id}`); return rg; })
      : spec.zones?.length ? [this.addResourceGroup(accountId, { name: `zones ${spec.zones.join(', ')}`, zones: spec.zones })] : [this.accountResourceGroup(accountId)];
    return {
      id: hexId(this.rng()), access: spec.access ?? 'allow',
      permission_groups: spec.permissionGroups.map((name) => { const g = iamPermissionGroup(name); return { id: g.id, name: g.name, meta: { ...g.meta } }; }),
      resource_groups: rgs.map((r) => structuredClone(r)),
    };
  }

  // ---- user groups ----

  addUserGroup(accountId: string, spec: { name: string; policies?: PolicySpec[] }): UserGroup {
    this.requireAccount(accountId);
    const at = this.stamp();
    const group: UserGroup = { id: hexId(this.rng()), name: spec.name, created_on: at, modified_on: at,
      policies: (spec.policies ?? []).map((p) => this.policy(accountId, p)) };
    this.groups.push({ accountId, group, members: [] });
    return group;
  }

  updateUserGroup(accountId: string, groupId: string, patch: { name?: string; policies?: PolicySpec[] }): UserGroup {
    const rec = this.requireGroup(accountId, groupId);
    rec.group = { ...rec.group, ...(patch.name ? { name: patch.name } : {}), modified_on: this.stamp(),
      ...(patch.policies ? { policies: patch.policies.map((p) => this.policy(accountId, p)) } : {}) };
    return rec.group;
  }

  removeUserGroup(accountId: string, groupId: string): UserGroup {
    const index = this.groups.findIndex((g) => g.accountId === accountId && g.group.id === groupId);
    if (index < 0) throw new Error(`no user group ${groupId} in account ${accountId}`);
    return this.groups.splice(index, 1)[0]!.group;
  }

  addGroupMember(accountId: string, groupId: string, memberId: string): void {
    const rec = this.requireGroup(accountId, groupId);
    if (!this.world.members(accountId).some((m) => m.id === memberId)) throw new Error(`no member ${memberId} in account ${accountId}`);
    if (!rec.members.some((m) => m.memberId === memberId)) rec.members.push({ memberId, addedAt: this.stamp() });
  }

  removeGroupMember(accountId: string, groupId: string, memberId: string): void {
    const rec = this.requireGroup(accountId, groupId);
    const index = rec.members.findIndex((m) => m.memberId === memberId);
    if (index < 0) throw new Error(`member ${memberId} is not in group ${groupId}`);
    rec.members.splice(index, 1);
  }

  // ---- zones ----

  addZone(accountId: string, name: string, status = 'active'): Zone {
    this.requireAccount(accountId);
    const zone = { id: hexId(this.rng()), name };
    this.world.zones.get(accountId)!.push(zone);
    this.zoneStatus.set(zone.id, status);
    return zone;
  }

  setZoneStatus(zoneId: string, status: string): void { this.zoneStatus.set(zoneId, status); }

  removeZone(accountId: string, zoneId: string): Zone {
    const list = this.world.zones.get(accountId) ?? [];
    const index = list.findIndex((z) => z.id === zoneId);
    if (index < 0) throw new Error(`no zone ${zoneId} in account ${accountId}`);
    return list.splice(index, 1)[0]!;
  }

  /** A zone of the account by name or id. */
  zone(accountId: string, nameOrId: string): Zone {
    const found = (this.world.zones.get(accountId) ?? []).find((z) => z.id === nameOrId || z.name === nameOrId);
    if (!found) throw new Error(`no zone ${nameOrId} in account ${accountId}`);
    return found;
  }

  // ---- organizations ----

  /** An organization owning `accounts` (their managed_by names it) with `members`. */
  addOrganization(spec: { name: string; accounts?: string[]; members?: OrgMemberSpec[] }): OrgRecord {
    const at = this.stamp();
    const org: Organization = { id: hexId(this.rng()), name: spec.name, create_time: at, meta: { hierarchy_tags: [] } };
    (org.meta as { hierarchy_tags: string[] }).hierarchy_tags.push(`org:${org.id}`);
    const rec: OrgRecord = { org, members: [], accountIds: [] };
    this.orgs.push(rec);
    for (const id of spec.accounts ?? []) this.addOrgAccount(org.id, id);
    for (const m of spec.members ?? []) this.addOrgMember(org.id, m);
    return rec;
  }

  addOrgAccount(orgId: string, accountId: string): void {
    const rec = this.requireOrg(orgId);
    const account = this.requireAccount(accountId);
    if (!rec.accountIds.includes(accountId)) rec.accountIds.push(accountId);
    account.managed_by = { parent_org_id: orgId, parent_org_name: rec.org.name };
  }

  addOrgMember(orgId: string, spec: OrgMemberSpec): OrgMember {
    const rec = this.requireOrg(orgId);
    const rng = this.rng();
    const at = this.stamp();
    const known = this.world.users.find((u) => u.user.email.toLowerCase() === spec.email.toLowerCase())?.user;
    const member: OrgMember = { id: hexId(rng), create_time: at, update_time: at, status: spec.status ?? 'active', meta: {},
      user: { id: spec.userId ?? known?.id ?? hexId(rng), email: spec.email, name: spec.name ?? spec.email.split('@')[0]!,
        two_factor_authentication_enabled: spec.twoFactor ?? (known ? known.two_factor_authentication_enabled === true : true) } };
    rec.members.push(member);
    return member;
  }

  removeOrgMember(orgId: string, memberId: string): OrgMember {
    const rec = this.requireOrg(orgId);
    const index = rec.members.findIndex((m) => m.id === memberId);
    if (index < 0) throw new Error(`no member ${memberId} in organization ${orgId}`);
    return rec.members.splice(index, 1)[0]!;
  }

  private requireAccount(accountId: string) {
    const account = this.world.account(accountId);
    if (!account) throw new Error(`no account ${accountId}`);
    return account;
  }
  private requireGroup(accountId: string, groupId: string): GroupRecord {
    const rec = this.groupRecord(accountId, groupId);
    if (!rec) throw new Error(`no user group ${groupId} in account ${accountId}`);
    return rec;
  }
  private requireOrg(orgId: string): OrgRecord {
    const rec = this.org(orgId);
    if (!rec) throw new Error(`no organization ${orgId}`);
    return rec;
  }
}
