import { sql } from 'drizzle-orm';
import { grantsCapability, pathText } from './access-sql.js';
import type { Rule } from './types.js';
import { DEFAULT_ADMIN_ROLES, liveAccount, memberKey, query, stringsSetting } from './sql.js';

interface Row extends Record<string, unknown> {
  key: string; type: string; account_id: string | null; email: string | null; role_names: string[] | null; admin: boolean;
  enforce_twofactor: boolean | null; admin_via: string[] | null; accounts: string[] | null;
}

const SCOPES = ['administrative', 'all'];

export const memberNo2fa: Rule = {
  id: 'member-no-2fa',
  title: 'Member with administrative access without two-factor authentication',
  severity: 'medium',
  controls: ['SOC2:CC6.1', 'ISO27001:A.8.5', 'PCI:8.4.2'],
  rationale:
    'A member who signs in with a password alone loses the account to the first phished or reused password. For a ' +
    'member holding administrative access (docs/access-model.md: the vocabulary\'s admin capability, through a role, a policy, a ' +
    'user group or an organization) that is the whole account: DNS, certificates, tokens and other members. Only accepted ' +
    'members whose user object reports 2FA disabled are reported (unknown is not guessed); organization members too.',
  remediation:
    'Ask the member to enable 2FA (security key or TOTP) now, and enforce 2FA for the account so new members cannot skip it. ' +
    'Remove administrative access the member does not need, where it comes from (facts.admin_via).',
  thresholds: {
    adminRoles: { default: [...DEFAULT_ADMIN_ROLES], description: 'permission group or role names (ILIKE patterns) that count as administrative, besides the vocabulary\'s admin capability' },
    scope: { default: 'administrative', description: 'administrative: only members holding administrative access (high); all: every member without 2FA (administrators high)' },
  },
  async evaluate(ctx) {
    const adminRoles = stringsSetting(ctx, 'adminRoles');
    const scope = ctx.thresholds.scope;
    if (typeof scope !== 'string' || !SCOPES.includes(scope)) throw new Error(`threshold scope must be one of ${SCOPES.join(', ')}, got ${JSON.stringify(scope)}`);
    // The model is read once (admin rows per principal), then joined: never a lookup of it per member.
    const rows = await query<Row>(ctx, sql`
      with admin as (
        select e.account_id, e.principal_id, e.organization_id, e.user_id, e.path, ${pathText()} as via
        from effective_access e
        where e.principal_type = 'member' and e.effective and ${grantsCapability('admin', adminRoles)}
      ), by_member as (
        select account_id, principal_id, array_agg(distinct via order by via) as via from admin group by 1, 2
      ), by_org_member as (
        select organization_id, user_id, array_agg(distinct account_id order by account_id) as accounts, array_agg(distinct via order by via) as via
        from admin where path = 'organization' group by 1, 2
      )
      select * from (
        select ${memberKey} as key, 'member' as type, m.account_id, m.email, m.role_names, a.enforce_twofactor, null::text[] as accounts, b.via as admin_via
        from account_members m
        left join accounts a on a.id = m.account_id
        left join by_member b on b.account_id = m.account_id and b.principal_id = m.id
        where m.deleted_at is null and m.status = 'accepted' and m.two_factor_enabled is false and ${liveAccount(sql`m.account_id`)}
        union all
        -- An organization member holds Super Administrator on the organization's accounts without any membership there.
        select 'organization-member:' || o.organization_id || ':' || o.member_id, 'organization_member', null, o.email, null, null, b.accounts, b.via
        from organization_members o
        left join by_org_member b on b.organization_id = o.organization_id and b.user_id = o.user_id
        where o.deleted_at is null and o.two_factor_enabled is false and coalesce(o.status, '') not in ('pending', 'invited')
      ) x
      cross join lateral (select x.admin_via is not null as admin) ad
      where ${scope === 'all' ? sql`true` : sql`ad.admin`}
      order by x.key`);
    return rows.map((r) => ({
      resourceKey: r.key, resourceType: r.type, resourceName: r.email, accountId: r.account_id,
      ...(r.admin ? { severity: 'high' as const } : {}),
      facts: {
        email: r.email, two_factor_enabled: false, roles: r.role_names ?? [], admin: r.admin, admin_via: r.admin_via ?? [],
        ...(r.type === 'member' ? { account_enforces_twofactor: r.enforce_twofactor } : { accounts: r.accounts ?? [] }),
      },
    }));
  },
};
