import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { liveAccount, query } from './sql.js';

interface Row extends Record<string, unknown> { group_id: string; group_name: string | null; account_id: string; members: number; reasons: string[] }

export const groupNoEffect: Rule = {
  id: 'group-no-effect',
  title: 'User group or group policy that grants nothing',
  severity: 'low',
  controls: ['SOC2:CC6.3', 'ISO27001:A.5.18', 'PCI:7.2.2'],
  rationale:
    'A user group with no members, or a group policy with no permission group, grants nothing today and ' +
    'everything the day someone is added or it is completed: access nobody reviews because it "does nothing". Judged only ' +
    'where the group-member listing of the account was read complete (a group whose members could not be listed is not empty).',
  remediation: 'Delete the group or the policy, or give it the members and scope it was meant to have.',
  async evaluate(ctx) {
    const rows = await query<Row>(ctx, sql`
      select g.id as group_id, g.name as group_name, g.account_id, coalesce(gm.n, 0)::int as members,
             array_remove(array[
               case when coalesce(gm.n, 0) = 0 then 'no members' end,
               case when jsonb_typeof(g.policies) <> 'array' or jsonb_array_length(g.policies) = 0 then 'no policies' end
             ] || coalesce(empty.reasons, '{}'), null) as reasons
      from user_groups g
      left join (select group_id, count(*) as n from user_group_members where deleted_at is null group by group_id) gm on gm.group_id = g.id
      left join lateral (
        -- (A policy naming no resource group is read as the whole account: it grants, so it is not reported.)
        select array_agg('policy ' || coalesce(p ->> 'id', '?') || ' grants nothing (no permission groups)') as reasons
        from jsonb_array_elements(case when jsonb_typeof(g.policies) = 'array' then g.policies else '[]'::jsonb end) p
        where coalesce(jsonb_array_length(case when jsonb_typeof(p -> 'permission_groups') = 'array' then p -> 'permission_groups' end), 0) = 0
      ) empty on true
      where g.deleted_at is null and ${liveAccount(sql`g.account_id`)}
        and exists (select 1 from access_listings l where l.scope = 'account:' || g.account_id and l.listing = 'user-group-members' and l.state = 'complete')
      order by g.id`);
    return rows.filter((r) => r.reasons.length > 0).map((r) => ({
      resourceKey: `group:${r.account_id}:${r.group_id}`, resourceType: 'user_group', resourceName: r.group_name, accountId: r.account_id,
      facts: { members: r.members, reasons: r.reasons },
    }));
  },
};
