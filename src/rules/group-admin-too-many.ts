import { sql } from 'drizzle-orm';
import { grantsCapability } from './access-sql.js';
import type { Rule } from './types.js';
import { bind, liveAccount, numberSetting, query } from './sql.js';

interface Row extends Record<string, unknown> { group_id: string; group_name: string | null; account_id: string; n: number; members: string[]; groups: string[] }

export const groupAdminTooMany: Rule = {
  id: 'group-admin-too-many',
  title: 'User group grants administrative access to many members',
  severity: 'medium',
  controls: ['SOC2:CC6.3', 'ISO27001:A.8.2', 'PCI:7.2.2'],
  rationale:
    'A user group whose policies grant administrative access (docs/access-model.md: the vocabulary\'s admin capability) makes ' +
    'an administrator of everyone it lists, often filled by SCIM from a directory group nobody reviews as an admin list. ' +
    'Past a handful of members, administrative access is no longer held by people who need it.',
  remediation: 'Split the group: keep administrative policies on a small group, give the rest the narrower permission groups they use.',
  thresholds: {
    max: { default: 5, description: 'members a group may make administrators of (effective, per group)' },
  },
  async evaluate(ctx) {
    const max = numberSetting(ctx, 'max');
    const rows = await query<Row>(ctx, sql`
      select e.group_id, min(e.group_name) as group_name, e.account_id, count(distinct e.principal_id)::int as n,
             array_agg(distinct coalesce(e.principal, e.principal_id)) as members,
             array_agg(distinct e.permission_group_name) as groups
      from effective_access e
      where e.path = 'group' and e.effective and ${grantsCapability('admin')} and ${liveAccount(sql`e.account_id`)}
      group by e.group_id, e.account_id
      having count(distinct e.principal_id) > ${bind(max)}::int
      order by e.group_id`);
    return rows.map((r) => ({
      resourceKey: `group:${r.account_id}:${r.group_id}`, resourceType: 'user_group', resourceName: r.group_name, accountId: r.account_id,
      facts: { members_with_admin: r.n, max, members: [...r.members].sort(), admin_permission_groups: [...r.groups].sort() },
    }));
  },
};
