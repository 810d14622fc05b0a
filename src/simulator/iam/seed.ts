import type { WorldView } from '../world-view.js';
import type { AccessWorld } from './access-world.js';
import { SUPER_ADMIN } from './catalog.js';

/**
 * The access paths every generated world starts with, a pure function of the generated inventory:
 * in the first account a SCIM-like 'Platform Admins' group (Super Administrator), 'DNS Editors' on a
 * resource group scoped to one zone, an 'Auditors' group nobody is in, one member denied DNS Write on
 * that zone by a deny policy of their own; in the second account a 'Support' group; one organization
 * owning the first account. Worlds too small for a step skip it.
 */
export function seedAccess(access: AccessWorld, world: WorldView): void {
  const [first, second] = world.accounts;
  if (!first) return;
  const zones = world.zones.get(first.id) ?? [];
  const accepted = world.members(first.id).filter((m) => m.status === 'accepted');
  const zone = zones[0];
  const zoneGroup = zone ? access.addResourceGroup(first.id, { name: `zone ${zone.name}`, zones: [zone.id] }) : undefined;
  const admins = access.addUserGroup(first.id, { name: 'Platform Admins', policies: [{ permissionGroups: [SUPER_ADMIN] }] });
  for (const m of accepted.slice(1, 3)) access.addGroupMember(first.id, admins.id, m.id);
  if (zoneGroup) {
    const dns = access.addUserGroup(first.id, { name: 'DNS Editors', policies: [{ permissionGroups: ['DNS Write', 'Zone Read'], resourceGroups: [zoneGroup.id] }] });
    for (const m of accepted.slice(3, 5)) access.addGroupMember(first.id, dns.id, m.id);
    const denied = accepted[5];
    if (denied) denied.policies = [...denied.policies, { ...access.policy(first.id, { access: 'deny', permissionGroups: ['DNS Write'], resourceGroups: [zoneGroup.id] }) }];
  }
  access.addUserGroup(first.id, { name: 'Auditors', policies: [{ permissionGroups: ['Audit Logs Viewer'] }] });
  if (second) {
    const support = access.addUserGroup(second.id, { name: 'Support', policies: [{ permissionGroups: ['Administrator Read Only'] }] });
    const m = world.members(second.id).find((x, i) => i > 0 && x.status === 'accepted');
    if (m) access.addGroupMember(second.id, support.id, m.id);
    const lastZone = world.zones.get(second.id)?.at(-1);
    if (lastZone) access.setZoneStatus(lastZone.id, 'pending');
  }
  access.addOrganization({ name: 'Acme Holdings', accounts: [first.id], members: [
    { email: world.user.email, name: 'Owen Owner' },
    { email: 'olga.org@acme.test', name: 'Olga Org', twoFactor: false },
  ] });
}
