import { sql } from 'drizzle-orm';
import { principalKey } from './access-sql.js';
import type { Rule } from './types.js';
import { liveAccount, query } from './sql.js';

interface Row extends Record<string, unknown> { key: string; account_id: string; principal: string | null; cancelled: string[] }

export const denyCancelsAllow: Rule = {
  id: 'deny-cancels-allow',
  title: 'A deny removes everything an allow grants',
  severity: 'low',
  controls: ['SOC2:CC6.3', 'ISO27001:A.5.18', 'PCI:7.2.2'],
  rationale:
    'When a deny policy removes every grant of an allow (a role, an own policy, a group policy) for a member, the two cancel ' +
    'out: the member looks like a holder of that access in every list that ignores deny, and becomes one the moment the deny ' +
    'is edited. One of them is a mistake (docs/access-model.md rule 2).',
  remediation: 'Remove the allow (or the member from the group that grants it) instead of denying it, or remove the deny if the access is intended.',
  async evaluate(ctx) {
    const rows = await query<Row>(ctx, sql`
      with allows as (
        select e.account_id, e.principal_id, min(e.principal) as principal, e.path, e.group_name, e.policy_id,
               bool_and(e.not_effective_reason like 'denied by %') as all_denied,
               min(e.not_effective_reason) as denied_by
        from effective_access e
        where e.principal_type = 'member' and e.access = 'allow' and e.path in ('role', 'policy', 'group')
        group by e.account_id, e.principal_id, e.path, e.group_id, e.group_name, e.policy_id, case when e.path = 'role' then e.permission_group_name end
      )
      select ${principalKey(sql`a`)} as key, a.account_id, min(a.principal) as principal,
             array_agg(case a.path when 'role' then 'role' when 'policy' then 'own policy ' || coalesce(a.policy_id, '?')
                       else 'group ' || coalesce(a.group_name, '?') || ' policy ' || coalesce(a.policy_id, '?') end || ': ' || a.denied_by
                       order by a.path, a.group_name, a.policy_id) as cancelled
      from allows a
      where a.all_denied and ${liveAccount(sql`a.account_id`)}
      group by a.account_id, a.principal_id
      order by 1`);
    return rows.map((r) => ({
      resourceKey: r.key, resourceType: 'member', resourceName: r.principal, accountId: r.account_id,
      facts: { cancelled: r.cancelled },
    }));
  },
};
