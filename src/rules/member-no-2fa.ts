import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { DEFAULT_ADMIN_ROLES, hasRoleLike, liveAccount, memberKey, query, stringsSetting } from './sql.js';

interface Row extends Record<string, unknown> {
  key: string; id: string; account_id: string; email: string | null; role_names: string[] | null; admin: boolean; enforce_twofactor: boolean | null;
}

export const memberNo2fa: Rule = {
  id: 'member-no-2fa',
  title: 'Account member without two-factor authentication',
  severity: 'medium',
  controls: ['SOC2:CC6.1', 'ISO27001:A.8.5', 'PCI:8.4.2'],
  rationale:
    'A member who signs in with a password alone loses the account to the first phished or reused password. For an ' +
    'administrator that is the whole account: DNS, certificates, tokens and other members. Only accepted members whose ' +
    'user object reports 2FA disabled are reported (unknown is not guessed).',
  remediation:
    'Ask the member to enable 2FA (security key or TOTP) now, and enforce 2FA for the account so new members cannot skip it. ' +
    'Remove administrator roles the member does not need.',
  thresholds: {
    adminRoles: { default: [...DEFAULT_ADMIN_ROLES], description: 'role names (ILIKE patterns) that make the finding high severity' },
  },
  async evaluate(ctx) {
    const adminRoles = stringsSetting(ctx, 'adminRoles');
    const rows = await query<Row>(ctx, sql`
      select ${memberKey} as key, m.id, m.account_id, m.email, m.role_names, ${hasRoleLike(adminRoles)} as admin, a.enforce_twofactor
      from account_members m left join accounts a on a.id = m.account_id
      where m.deleted_at is null and m.status = 'accepted' and m.two_factor_enabled is false and ${liveAccount(sql`m.account_id`)}
      order by m.id`);
    return rows.map((r) => ({
      resourceKey: r.key, resourceType: 'member', resourceName: r.email, accountId: r.account_id,
      ...(r.admin ? { severity: 'high' as const } : {}),
      facts: { email: r.email, two_factor_enabled: false, roles: r.role_names ?? [], admin: r.admin, account_enforces_twofactor: r.enforce_twofactor },
    }));
  },
};
