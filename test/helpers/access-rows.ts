import type pg from 'pg';

// Hand-worked access worlds as rows: the tables effective_access reads, written directly so a
// semantics test states exactly the case it checks (the simulator-driven world is access-world.ts).

export const ACCOUNT_KEY = (id: string) => `com.cloudflare.api.account.${id}`;
export const ZONE_KEY = (id: string) => `com.cloudflare.api.account.zone.${id}`;

export interface PolicySpec {
  id: string;
  access?: 'allow' | 'deny';
  groups: string[];
  /** Resource groups inline: `account` (the whole account), zone ids, or { id } of a stored resource group. */
  resources?: Array<'account' | { zones: string[] } | { id: string }>;
}

/** A member or group policy as the API returns it (names inline, resource groups with their scope). */
export function policy(account: string, p: PolicySpec): Record<string, unknown> {
  const resources = (p.resources ?? ['account']).map((r) => {
    if (r === 'account') return { id: `rg-${account}-all`, scope: { key: ACCOUNT_KEY(account), objects: [{ key: '*' }] } };
    if ('zones' in r) return { id: `rg-${r.zones.join('-')}`, scope: { key: ACCOUNT_KEY(account), objects: r.zones.map((z) => ({ key: ZONE_KEY(z) })) } };
    return { id: r.id };
  });
  return { id: p.id, access: p.access ?? 'allow', permission_groups: p.groups.map((name) => ({ id: `pg-${name}`, name })), resource_groups: resources };
}

export interface AccessRows {
  account(id: string, name?: string): Promise<void>;
  zone(id: string, account: string, name: string): Promise<void>;
  member(m: { id: string; account: string; email: string; userId?: string; status?: string; roles?: string[]; policies?: PolicySpec[]; twoFactor?: boolean }): Promise<void>;
  group(g: { id: string; account: string; name: string; policies: PolicySpec[] }): Promise<void>;
  groupMember(groupId: string, memberId: string, account: string, email?: string): Promise<void>;
  resourceGroup(r: { id: string; account: string; name?: string; scopeKey: string; objectKeys: string[] }): Promise<void>;
  organization(o: { id: string; accounts: string[]; members: Array<{ id: string; userId: string; email: string; status?: string }> }): Promise<void>;
  token(t: { id: string; name: string; ownerType: 'user' | 'account'; account?: string | null; userId?: string | null; status?: string; policies: unknown[] }): Promise<void>;
  listing(scope: string, listing: string, state: string, reason?: string | null, viewOf?: string): Promise<void>;
  /** Every listing of these accounts and the credential-wide ones recorded complete. */
  completeListings(accounts: string[]): Promise<void>;
}

export function accessRows(pool: pg.Pool): AccessRows {
  const q = (text: string, params: unknown[]) => pool.query(text, params);
  const rows: AccessRows = {
    async account(id, name = `Account ${id}`) {
      await q(`insert into accounts (id, name, raw) values ($1, $2, '{}')`, [id, name]);
    },
    async zone(id, account, name) {
      await q(`insert into zones (id, account_id, name, status, raw) values ($1, $2, $3, 'active', '{}')`, [id, account, name]);
    },
    async member(m) {
      await q(`insert into account_members (id, account_id, user_id, email, status, two_factor_enabled, role_names, role_ids, policies, raw)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, '{}')`,
        [m.id, m.account, m.userId ?? `u-${m.id}`, m.email, m.status ?? 'accepted', m.twoFactor ?? true, m.roles ?? [],
          (m.roles ?? []).map((r) => `role-${r}`), JSON.stringify((m.policies ?? []).map((p) => policy(m.account, p)))]);
    },
    async group(g) {
      await q(`insert into user_groups (id, account_id, name, policies, raw) values ($1, $2, $3, $4, '{}')`,
        [g.id, g.account, g.name, JSON.stringify(g.policies.map((p) => policy(g.account, p)))]);
    },
    async groupMember(groupId, memberId, account, email) {
      await q(`insert into user_group_members (id, group_id, member_id, account_id, email, status, raw) values ($1, $2, $3, $4, $5, 'accepted', '{}')`,
        [`${groupId}:${memberId}`, groupId, memberId, account, email ?? null]);
    },
    async resourceGroup(r) {
      await q(`insert into resource_groups (id, account_id, name, scope_key, object_keys, raw) values ($1, $2, $3, $4, $5, '{}')`,
        [r.id, r.account, r.name ?? r.id, r.scopeKey, r.objectKeys]);
    },
    async organization(o) {
      await q(`insert into organizations (id, name, raw) values ($1, $2, '{}')`, [o.id, `Org ${o.id}`]);
      for (const a of o.accounts) await q(`insert into organization_accounts (id, organization_id, account_id, raw) values ($1, $2, $3, '{}')`, [`${o.id}:${a}`, o.id, a]);
      for (const m of o.members) {
        await q(`insert into organization_members (id, organization_id, member_id, user_id, email, status, two_factor_enabled, raw)
                 values ($1, $2, $3, $4, $5, $6, true, '{}')`, [`${o.id}:${m.id}`, o.id, m.id, m.userId, m.email, m.status ?? 'active']);
      }
    },
    async token(t) {
      await q(`insert into api_tokens (id, owner_type, account_id, user_id, name, status, policies, raw) values ($1, $2, $3, $4, $5, $6, $7, '{}')`,
        [t.id, t.ownerType, t.account ?? null, t.userId ?? null, t.name, t.status ?? 'active', JSON.stringify(t.policies)]);
    },
    async listing(scope, listing, state, reason = null, viewOf = 'account') {
      await q(`insert into access_listings (scope, account_id, listing, state, reason, view_of, complete_at)
               values ($1, $2, $3, $4, $5, $6, case when $4 = 'complete' then now() end)
               on conflict (scope, listing) do update set state = excluded.state, reason = excluded.reason, view_of = excluded.view_of`,
        [scope, scope.startsWith('account:') ? scope.slice(8) : null, listing, state, reason, viewOf]);
    },
    async completeListings(accounts) {
      for (const a of accounts) {
        for (const l of ['members', 'user-groups', 'user-group-members', 'resource-groups', 'zones', 'account-tokens', 'roles', 'iam-permission-groups']) {
          await rows.listing(`account:${a}`, l, 'complete');
        }
      }
      for (const l of ['organizations', 'user-tokens']) await rows.listing('credential:default', l, 'complete');
    },
  };
  return rows;
}

/** A token policy: `resources` as the API has them (flat or nested). */
export const tokenPolicy = (id: string, groups: string[], resources: Record<string, unknown>, effect: 'allow' | 'deny' = 'allow') =>
  ({ id, effect, permission_groups: groups.map((name) => ({ id: `tpg-${name}`, name })), resources });
