import { sql } from 'drizzle-orm';
import { principalKey } from './access-sql.js';
import type { Rule } from './types.js';
import { liveAccount, query } from './sql.js';

interface Row extends Record<string, unknown> { key: string; account_id: string; account_name: string | null; principal: string | null; user_id: string | null; organizations: string[] }

export const accessOnlyViaOrganization: Rule = {
  id: 'access-only-via-organization',
  title: 'Access held only through an organization',
  severity: 'medium',
  controls: ['SOC2:CC6.2', 'SOC2:CC6.3', 'ISO27001:A.5.18', 'PCI:7.2.4'],
  rationale:
    'An organization member holds implicit Super Administrator on every account of the organization without appearing in ' +
    'the account\'s member list (docs/access-model.md rule 4): an access review of the account\'s members misses them, and ' +
    'removing them from the account is not possible because they are not in it.',
  remediation: 'Review the organization\'s members: remove those who should not administer this account, or give them an account membership with the access they need instead.',
  async evaluate(ctx) {
    const rows = await query<Row>(ctx, sql`
      select ${principalKey()} as key, e.account_id, min(e.account_name) as account_name, min(e.principal) as principal, min(e.user_id) as user_id,
             array_agg(distinct e.organization_id) filter (where e.path = 'organization') as organizations
      from effective_access e
      where e.principal_type = 'member' and e.effective and ${liveAccount(sql`e.account_id`)}
      group by e.account_id, e.principal_id
      having bool_and(e.path = 'organization')
      order by 1`);
    return rows.map((r) => ({
      resourceKey: r.key, resourceType: 'member', resourceName: r.principal, accountId: r.account_id,
      facts: { email: r.principal, user_id: r.user_id, organizations: r.organizations, account_name: r.account_name },
    }));
  },
};
