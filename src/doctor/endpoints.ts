import type { Query } from '../cloudflare/fetch-envelope.js';

/** One request that proves a stream's endpoint answers this credential (first page, smallest size). */
export interface Probe {
  stream: string;
  path: string;
  query?: Query;
}

const hourAgo = (now: Date) => new Date(now.getTime() - 3_600_000).toISOString();

/** What a credential that can call /user walks of itself. */
export function userProbes(credential: string, now: Date): Probe[] {
  const s = (kind: string) => `${kind}:${credential}`;
  return [
    { stream: s('user'), path: '/user' },
    { stream: s('user-tokens'), path: '/user/tokens', query: { page: 1, per_page: 5 } },
    { stream: 'permission-groups', path: '/user/tokens/permission_groups' },
    { stream: s('user-invites'), path: '/user/invites' },
    { stream: s('user-organizations'), path: '/user/organizations', query: { page: 1, per_page: 5 } },
    { stream: s('user-subscriptions'), path: '/user/subscriptions' },
    { stream: s('billing-history'), path: '/user/billing/history', query: { page: 1, per_page: 5 } },
    { stream: s('ip-access-rules'), path: '/user/firewall/access_rules/rules', query: { page: 1, per_page: 5 } },
    { stream: s('user-audit'), path: '/user/audit_logs', query: { since: hourAgo(now), before: now.toISOString(), per_page: 1, page: 1 } },
    { stream: s('organizations'), path: '/organizations', query: { page_size: 1 } },
  ];
}

/** What is walked of one account. */
export function accountProbes(accountId: string, now: Date): Probe[] {
  const a = `/accounts/${accountId}`;
  const s = (kind: string) => `${kind}:${accountId}`;
  return [
    { stream: s('account-tokens'), path: `${a}/tokens`, query: { page: 1, per_page: 5 } },
    { stream: s('account-permission-groups'), path: `${a}/tokens/permission_groups` },
    { stream: s('members'), path: `${a}/members`, query: { page: 1, per_page: 5 } },
    { stream: s('roles'), path: `${a}/roles`, query: { page: 1, per_page: 5 } },
    { stream: s('account-subscriptions'), path: `${a}/subscriptions` },
    { stream: s('account-audit'), path: `${a}/logs/audit`, query: { since: hourAgo(now), before: now.toISOString(), limit: 1, direction: 'asc' } },
    { stream: s('account-audit-v1'), path: `${a}/audit_logs`, query: { since: hourAgo(now), before: now.toISOString(), per_page: 1, page: 1 } },
    { stream: s('user-groups'), path: `${a}/iam/user_groups`, query: { page: 1, per_page: 1 } },
    { stream: s('resource-groups'), path: `${a}/iam/resource_groups` },
    { stream: s('iam-permission-groups'), path: `${a}/iam/permission_groups`, query: { page: 1, per_page: 5 } },
    { stream: s('zones'), path: '/zones', query: { 'account.id': accountId, page: 1, per_page: 5 } },
  ];
}
