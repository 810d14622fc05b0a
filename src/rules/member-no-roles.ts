import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { liveAccount, memberKey, query } from './sql.js';

interface Row extends Record<string, unknown> { key: string; id: string; account_id: string; email: string | null; status: string | null }

export const memberNoRoles: Rule = {
  id: 'member-no-roles',
  title: 'Account member with no roles and no policies',
  severity: 'low',
  controls: ['SOC2:CC6.3', 'ISO27001:A.5.18', 'PCI:7.2.2'],
  rationale:
    'A membership that grants nothing has no reason to exist: it is usually a half-finished offboarding (roles removed, ' +
    'member kept) and a one-click path back to access for whoever controls that login.',
  remediation: 'Remove the member from the account, or give them the role they actually need.',
  async evaluate(ctx) {
    const rows = await query<Row>(ctx, sql`
      select ${memberKey} as key, m.id, m.account_id, m.email, m.status
      from account_members m
      where m.deleted_at is null and ${liveAccount(sql`m.account_id`)}
        and coalesce(cardinality(m.role_ids), 0) = 0 and coalesce(cardinality(m.role_names), 0) = 0
        and (m.policies is null or jsonb_typeof(m.policies) <> 'array' or jsonb_array_length(m.policies) = 0)
      order by m.id`);
    return rows.map((r) => ({
      resourceKey: r.key, resourceType: 'member', resourceName: r.email, accountId: r.account_id,
      facts: { email: r.email, status: r.status, roles: [], policies: 0 },
    }));
  },
};
