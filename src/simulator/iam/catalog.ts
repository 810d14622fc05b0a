import { PERMISSION_GROUPS, ROLES, SCOPE_ACCOUNT, SCOPE_USER } from '../catalog.js';
import { nameId } from '../prng.js';

/**
 * The account IAM permission groups (GET /accounts/{id}/iam/permission_groups): what member and user-group
 * policies refer to. Cloudflare turned its legacy roles into permission groups of the same names
 * (Super Administrator, Administrator, DNS, ...), beside the account- and zone-level token groups.
 * `meta` follows the spec's example ({ label, scopes }); the object has only id, name and meta.
 */
export interface IamPermissionGroup { id: string; name: string; meta: { label: string; scopes: string } }

const label = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');

export const IAM_PERMISSION_GROUPS: readonly IamPermissionGroup[] = [
  ...ROLES.map((r) => ({ id: nameId(r.name), name: r.name, meta: { label: label(r.name), scopes: SCOPE_ACCOUNT } })),
  // A token group named like a role (Cache Purge) is that role's group: one id, listed once.
  ...PERMISSION_GROUPS.filter((g) => !g.scopes.includes(SCOPE_USER) && !ROLES.some((r) => r.name === g.name))
    .map((g) => ({ id: g.id, name: g.name, meta: { label: label(g.name), scopes: g.scopes[0]! } })),
];

export const SUPER_ADMIN = 'Super Administrator - All Privileges';

export function iamPermissionGroup(name: string): IamPermissionGroup {
  const found = IAM_PERMISSION_GROUPS.find((g) => g.name === name);
  if (!found) throw new Error(`unknown IAM permission group "${name}" (known: ${IAM_PERMISSION_GROUPS.map((g) => g.name).join(', ')})`);
  return found;
}
