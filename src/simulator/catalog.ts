import { nameId } from './prng.js';

/** Static reference data that real Cloudflare accounts share: permission groups and legacy roles. */

export const SCOPE_ACCOUNT = 'com.cloudflare.api.account';
export const SCOPE_ZONE = 'com.cloudflare.api.account.zone';
export const SCOPE_USER = 'com.cloudflare.api.user';
export const SCOPE_R2 = 'com.cloudflare.edge.r2.bucket';

export interface PermissionGroup {
  id: string;
  name: string;
  scopes: string[];
  category: string;
}

// [name, scope, category]; names and scopes as listed on developers.cloudflare.com's permissions page.
const GROUPS: Array<[string, string, string]> = [
  ['API Tokens Read', SCOPE_USER, 'account_and_billing'],
  ['API Tokens Write', SCOPE_USER, 'account_and_billing'],
  ['User Details Read', SCOPE_USER, 'account_and_billing'],
  ['User Details Write', SCOPE_USER, 'account_and_billing'],
  ['Memberships Read', SCOPE_USER, 'account_and_billing'],
  ['Memberships Write', SCOPE_USER, 'account_and_billing'],
  ['Account API Tokens Read', SCOPE_ACCOUNT, 'account_and_billing'],
  ['Account API Tokens Write', SCOPE_ACCOUNT, 'account_and_billing'],
  ['Account Settings Read', SCOPE_ACCOUNT, 'account_and_billing'],
  ['Account Settings Write', SCOPE_ACCOUNT, 'account_and_billing'],
  ['Billing Read', SCOPE_ACCOUNT, 'account_and_billing'],
  ['Billing Write', SCOPE_ACCOUNT, 'account_and_billing'],
  ['Account Analytics Read', SCOPE_ACCOUNT, 'analytics_and_logs'],
  ['Logs Read', SCOPE_ACCOUNT, 'analytics_and_logs'],
  ['Logs Write', SCOPE_ACCOUNT, 'analytics_and_logs'],
  ['Workers Scripts Read', SCOPE_ACCOUNT, 'developer_platform'],
  ['Workers Scripts Write', SCOPE_ACCOUNT, 'developer_platform'],
  ['Workers KV Storage Read', SCOPE_ACCOUNT, 'developer_platform'],
  ['Workers KV Storage Write', SCOPE_ACCOUNT, 'developer_platform'],
  ['Workers R2 Storage Read', SCOPE_ACCOUNT, 'developer_platform'],
  ['Workers R2 Storage Write', SCOPE_ACCOUNT, 'developer_platform'],
  ['Workers R2 Storage Bucket Item Write', SCOPE_R2, 'developer_platform'],
  ['Pages Write', SCOPE_ACCOUNT, 'developer_platform'],
  ['Access: Apps and Policies Read', SCOPE_ACCOUNT, 'cloudflare_one_and_zero_trust'],
  ['Access: Apps and Policies Write', SCOPE_ACCOUNT, 'cloudflare_one_and_zero_trust'],
  ['Zero Trust Read', SCOPE_ACCOUNT, 'cloudflare_one_and_zero_trust'],
  ['Load Balancing: Monitors and Pools Write', SCOPE_ACCOUNT, 'network_services'],
  ['Zone Read', SCOPE_ZONE, 'dns_and_zones'],
  ['Zone Write', SCOPE_ZONE, 'dns_and_zones'],
  ['DNS Read', SCOPE_ZONE, 'dns_and_zones'],
  ['DNS Write', SCOPE_ZONE, 'dns_and_zones'],
  ['Zone Settings Read', SCOPE_ZONE, 'rules_and_configuration'],
  ['Zone Settings Write', SCOPE_ZONE, 'rules_and_configuration'],
  ['Page Rules Write', SCOPE_ZONE, 'rules_and_configuration'],
  ['Cache Purge', SCOPE_ZONE, 'cache_and_performance'],
  ['SSL and Certificates Read', SCOPE_ZONE, 'app_security'],
  ['SSL and Certificates Write', SCOPE_ZONE, 'app_security'],
  ['Firewall Services Read', SCOPE_ZONE, 'app_security'],
  ['Firewall Services Write', SCOPE_ZONE, 'app_security'],
  ['Load Balancers Write', SCOPE_ZONE, 'network_services'],
  ['Analytics Read', SCOPE_ZONE, 'analytics_and_logs'],
  ['Email Routing Rules Write', SCOPE_ZONE, 'email_and_messaging'],
];

export const PERMISSION_GROUPS: readonly PermissionGroup[] = GROUPS.map(([name, scope, category]) => ({
  id: nameId(name),
  name,
  scopes: [scope],
  category,
}));

export function groupByName(name: string): PermissionGroup {
  const group = PERMISSION_GROUPS.find((g) => g.name === name);
  if (!group) throw new Error(`unknown permission group ${name}`);
  return group;
}

/** The user-scoped listing shows everything; the account listing hides user-only groups. */
export const accountPermissionGroups = (): PermissionGroup[] =>
  PERMISSION_GROUPS.filter((g) => !g.scopes.includes(SCOPE_USER));

const AREAS = ['analytics', 'billing', 'cache_purge', 'dns', 'dns_records', 'lb', 'logs', 'organization',
  'ssl', 'waf', 'zone_settings', 'zones'] as const;
type Area = (typeof AREAS)[number];

export interface Role {
  id: string;
  name: string;
  description: string;
  permissions: Record<Area, { read: boolean; write: boolean }>;
}

function role(name: string, description: string, read: Area[] | 'all', write: Area[] | 'all'): Role {
  const permissions = {} as Role['permissions'];
  for (const area of AREAS) {
    permissions[area] = {
      read: read === 'all' || read.includes(area),
      write: write === 'all' || write.includes(area),
    };
  }
  return { id: nameId(`role:${name}`), name, description, permissions };
}

export const ROLES: readonly Role[] = [
  role('Super Administrator - All Privileges', 'Can edit any Cloudflare setting, make purchases, update billing, and manage memberships. Super Administrators can revoke the access of other Super Administrators.', 'all', 'all'),
  role('Administrator', 'Can access the full account, except for membership management and billing.', 'all',
    ['analytics', 'cache_purge', 'dns', 'dns_records', 'lb', 'logs', 'ssl', 'waf', 'zone_settings', 'zones']),
  role('Administrator Read Only', 'Can access the full account in read-only mode.', 'all', []),
  role('Billing', 'Can edit the account\'s billing profile and subscriptions.', ['billing', 'organization'], ['billing']),
  role('DNS', 'Can edit DNS records.', ['dns', 'dns_records', 'zones'], ['dns', 'dns_records']),
  role('Firewall', 'Can edit WAF, IP Firewall, and Zone Lockdown settings.', ['waf', 'zones', 'analytics'], ['waf']),
  role('Cache Purge', 'Can purge the edge cache.', ['cache_purge', 'zones'], ['cache_purge']),
  role('Analytics', 'Can read Analytics.', ['analytics', 'zones'], []),
  role('Audit Logs Viewer', 'Can view Audit Logs.', ['logs', 'organization'], []),
  role('SSL/TLS, Caching, Performance, Page Rules, and Customization', 'Can edit most Cloudflare settings except for DNS and Firewall.', ['ssl', 'zone_settings', 'zones', 'cache_purge'], ['ssl', 'zone_settings', 'cache_purge']),
  role('Load Balancer', 'Can edit Load Balancers, Pools, Origins, and Health Checks.', ['lb', 'zones'], ['lb']),
];

/** A role an account defined itself (used when a listing gains an item at runtime). */
export function customRole(n: number): Role {
  return role(`Custom Role ${n}`, 'A role defined by the account.', ['analytics', 'zones'], []);
}

export function roleByName(name: string): Role {
  const found = ROLES.find((r) => r.name === name);
  if (!found) throw new Error(`unknown role ${name}`);
  return found;
}
