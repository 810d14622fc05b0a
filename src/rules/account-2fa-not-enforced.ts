import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { query } from './sql.js';

interface Row extends Record<string, unknown> { id: string; name: string; enforce_twofactor: boolean | null; members_without_2fa: number; members: number }

export const account2faNotEnforced: Rule = {
  id: 'account-2fa-not-enforced',
  title: 'Account does not enforce two-factor authentication',
  severity: 'medium',
  controls: ['SOC2:CC6.1', 'ISO27001:A.5.17', 'ISO27001:A.8.5', 'PCI:8.4.2'],
  rationale:
    'Without enforcement every member decides alone whether to use 2FA, and a new member can join and stay on a ' +
    'password only. Enforcement makes 2FA a property of the account instead of a habit of each person.',
  remediation: 'Enable "Enforce two-factor authentication" in the account\'s Members settings (after the members listed without 2FA have enrolled).',
  async evaluate(ctx) {
    const rows = await query<Row>(ctx, sql`
      select a.id, a.name, a.enforce_twofactor,
             count(m.id) filter (where m.status = 'accepted' and m.two_factor_enabled is false)::int as members_without_2fa,
             count(m.id) filter (where m.status = 'accepted')::int as members
      from accounts a left join account_members m on m.account_id = a.id and m.deleted_at is null
      where a.deleted_at is null and a.enforce_twofactor is not true
      group by a.id, a.name, a.enforce_twofactor
      order by a.id`);
    return rows.map((r) => ({
      resourceKey: `account:${r.id}`, resourceType: 'account', resourceName: r.name, accountId: r.id,
      facts: { enforce_twofactor: r.enforce_twofactor, accepted_members: r.members, members_without_2fa: r.members_without_2fa },
    }));
  },
};
