import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { liveAccount, query } from './sql.js';

interface Row extends Record<string, unknown> { id: string; name: string | null; user_id: string | null; account_id: string | null; beyond: string[] }

export const tokenExceedsOwner: Rule = {
  id: 'token-exceeds-owner',
  title: 'User token grants more than its owner holds',
  severity: 'medium',
  controls: ['SOC2:CC6.3', 'ISO27001:A.5.18', 'PCI:7.2.5'],
  rationale:
    'A user token can never do more than its owner (docs/access-model.md rule 8), so a grant beyond the owner\'s access does ' +
    'nothing today: it misleads every reader of the token\'s policy, and it becomes live the day the owner gains the access ' +
    '(a new role, a group, an organization), silently widening a credential that may sit in a CI system.',
  remediation: 'Narrow the token\'s policy to what its owner holds and the token needs (facts.beyond lists the grants to drop).',
  async evaluate(ctx) {
    const rows = await query<Row>(ctx, sql`
      select e.principal_id as id, min(e.principal) as name, min(e.user_id) as user_id, min(e.account_id) as account_id,
             array_agg(distinct e.permission_group_name || ' on ' || case e.resource_kind when 'zone' then 'zone ' || coalesce(e.zone_name, e.zone_id)
               when 'all_zones' then 'all zones of ' || coalesce(e.account_name, e.account_id) else coalesce(e.account_name, e.account_id, e.resource_key) end) as beyond
      from effective_access e
      where e.principal_type = 'token' and e.not_effective_reason like 'beyond owner%' and ${liveAccount(sql`e.account_id`)}
      group by e.principal_id
      order by e.principal_id`);
    return rows.map((r) => ({
      resourceKey: `token:${r.id}`, resourceType: 'token', resourceName: r.name, accountId: r.account_id,
      facts: { owner_type: 'user', owner: r.user_id, beyond: [...r.beyond].sort() },
    }));
  },
};
