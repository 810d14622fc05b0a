import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { liveAccount, memberKey, query } from './sql.js';

interface Row extends Record<string, unknown> {
  key: string; id: string; account_id: string; email: string | null; status: string | null; complete: boolean; missing: string[]; not_effective: string[];
}

export const memberNoRoles: Rule = {
  id: 'member-no-roles',
  title: 'Account member with no access at all',
  severity: 'low',
  controls: ['SOC2:CC6.3', 'ISO27001:A.5.18', 'PCI:7.2.2'],
  rationale:
    'A membership that grants nothing, on any path (roles, own policies, user groups, organizations: effective_access), has no ' +
    'reason to exist: it is usually a half-finished offboarding and a one-click path back to access for whoever controls that ' +
    'login. When the account\'s access picture is incomplete (a user-group listing could not be read, say) the member may hold ' +
    'access flarewatch cannot see: it is then reported at info with the missing listings, and must not be removed on this evidence.',
  remediation: 'Remove the member from the account, or give them the access they actually need. If facts.picture_complete is false, ' +
    'first check the listings in facts.picture_missing (a group may grant this member access).',
  async evaluate(ctx) {
    // The model is read once (a CTE), then joined: never a lookup of it per member.
    const rows = await query<Row>(ctx, sql`
      with held as (
        select e.account_id, e.principal_id,
               bool_or(e.effective or e.not_effective_reason = 'invitation pending') as holds,
               array_agg(distinct e.permission_group_name || ': ' || e.not_effective_reason) filter (where not e.effective) as removed
        from effective_access e
        where e.principal_type = 'member' and e.access = 'allow'
        group by e.account_id, e.principal_id
      )
      select ${memberKey} as key, m.id, m.account_id, m.email, m.status,
             coalesce(p.complete, false) as complete, coalesce(p.missing, array['account not synced']) as missing,
             coalesce(h.removed, '{}') as not_effective
      from account_members m
      left join access_pictures p on p.account_id = m.account_id
      left join held h on h.account_id = m.account_id and h.principal_id = m.id
      where m.deleted_at is null and ${liveAccount(sql`m.account_id`)} and not coalesce(h.holds, false)
      order by m.id`);
    return rows.map((r) => ({
      resourceKey: r.key, resourceType: 'member', resourceName: r.email, accountId: r.account_id,
      ...(r.complete ? {} : { severity: 'info' as const }),
      facts: { email: r.email, status: r.status, effective_access: 0, removed_grants: r.not_effective, picture_complete: r.complete, picture_missing: r.missing },
    }));
  },
};
