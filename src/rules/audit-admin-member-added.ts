import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { AUDIT_COLUMNS, type AuditRow, auditScope, detectionHit, detectionThresholds, groupBySubjectAndWindow, retirePerEntryKeys } from './detection.js';
import { DEFAULT_ADMIN_ROLES, auditSourcePreference, bind, firstArray, notFailed, numberSetting, query, stringsSetting } from './sql.js';

interface Row extends AuditRow { member_email: string | null; roles: string[] }

// Where the new member's roles are: v2 request/response bodies, v1 new value and metadata.
// Real requests carry role ids; the simulator (and some log versions) carry names.
const ROLE_PATHS = ['{resource,request,roles}', '{newValueJson,roles}', '{metadata,roles}', '{resource,response,roles}'];

const MEMBER_ADD = sql`(
  (lower(coalesce(a.resource_type, '')) like '%member%' and lower(coalesce(a.action_type, '')) ~ '(create|add|invite)')
  or lower(coalesce(a.action_type, '')) ~ '(member.*(add|create|invite))|((add|create|invite).*member)')`;

export const auditAdminMemberAdded: Rule = {
  id: 'audit-admin-member-added',
  title: 'Members added with an administrator role',
  severity: 'high',
  controls: ['SOC2:CC6.2', 'SOC2:CC6.3', 'SOC2:CC7.2', 'ISO27001:A.5.18', 'ISO27001:A.8.2', 'ISO27001:A.8.16', 'PCI:8.2.4', 'PCI:10.4.1'],
  kind: 'detection',
  rationale:
    'Adding an administrator is the most direct way to keep access to an account, and the classic step after a session ' +
    'or token compromise. Each one should match a known request. One detection per actor (or acting API token) and window, listing the members.',
  remediation:
    'Confirm the additions with the actor and the new members. If unexpected, remove the members, revoke the actor\'s sessions ' +
    'and tokens, and review the actor\'s other recent actions. Then acknowledge the detection.',
  requires: ['audit_logs'],
  thresholds: {
    ...detectionThresholds,
    adminRoles: { default: [...DEFAULT_ADMIN_ROLES], description: 'role names (ILIKE patterns) that count as administrator' },
  },
  retire: retirePerEntryKeys,
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'lookbackDays');
    const hours = numberSetting(ctx, 'groupHours');
    const adminRoles = stringsSetting(ctx, 'adminRoles');
    // Role ids are resolved to names through the account's synced roles; an unknown value is kept as is.
    const rows = await query<Row>(ctx, sql`
      select * from (
        select a.*, (
          select coalesce(array_agg(distinct coalesce(r.name, v.val)), '{}')
          from jsonb_array_elements(coalesce(a.role_list, '[]'::jsonb)) x
          cross join lateral (select case jsonb_typeof(x) when 'string' then x #>> '{}'
                                      when 'object' then coalesce(x ->> 'name', x ->> 'id') end as val) v
          left join account_roles r on r.account_id = a.account_id and r.id = v.val
          where v.val is not null) as roles
        from (
          select distinct on (a.id) ${AUDIT_COLUMNS(hours)}, ${firstArray(ROLE_PATHS)} as role_list,
                 coalesce(a.raw #>> '{resource,request,email}', a.raw #>> '{newValueJson,email}', a.raw #>> '{metadata,email}') as member_email
          from audit_events a
          where ${auditScope(ctx.now, days)} and ${notFailed} and ${MEMBER_ADD}
          order by a.id, ${auditSourcePreference}
        ) a
      ) a
      where exists (select 1 from unnest(a.roles) n where n ilike any(${bind(adminRoles)}::text[]))
      order by a.event_time, a.id`);
    return [...groupBySubjectAndWindow(rows)].map(([key, entries]) =>
      detectionHit(key, entries, hours, {
        listName: 'members',
        listed: (e) => ({ member_email: (e as Row).member_email, roles: (e as Row).roles }),
      }));
  },
};
