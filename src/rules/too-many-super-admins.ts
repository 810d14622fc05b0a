import { sql } from 'drizzle-orm';
import { grantsCapability, pathText } from './access-sql.js';
import type { Rule } from './types.js';
import { bind, numberSetting, query } from './sql.js';

interface Row extends Record<string, unknown> { id: string; name: string; n: number; emails: string[]; pending: number; via: string[] }

export const tooManySuperAdmins: Rule = {
  id: 'too-many-super-admins',
  title: 'Too many super administrators',
  severity: 'medium',
  controls: ['SOC2:CC6.3', 'ISO27001:A.8.2', 'PCI:7.2.2'],
  rationale:
    'A super administrator can do everything, including removing the other super administrators and changing billing. ' +
    'Every extra one is another account whose compromise is total; two are enough for redundancy. Counted from effective ' +
    'access: a role, an own policy, a user group or an organization each make a super administrator (docs/access-model.md).',
  remediation: 'Downgrade the super administrators who do not manage memberships or billing to Administrator or narrower roles, ' +
    'in the place each one comes from (the member, the user group, the organization).',
  thresholds: {
    max: { default: 2, description: 'super administrators (effective, any path) allowed per account' },
    rolePattern: { default: 'Super Administrator%', description: 'permission group name (ILIKE pattern) that counts as super administrator, besides the vocabulary\'s super-admin capability' },
  },
  async evaluate(ctx) {
    const max = numberSetting(ctx, 'max');
    const pattern = ctx.thresholds.rolePattern;
    if (typeof pattern !== 'string') throw new Error(`threshold rolePattern must be a string, got ${JSON.stringify(pattern)}`);
    // One person is counted once per account whatever the number of paths; pending invitations are reported, not counted.
    const rows = await query<Row>(ctx, sql`
      with sa as (
        select e.account_id, e.principal_id, min(coalesce(e.principal, e.principal_id)) as who, bool_or(e.effective) as eff,
               bool_or(not e.effective and e.not_effective_reason = 'invitation pending') as pending,
               array_agg(distinct ${pathText()}) filter (where e.effective) as via
        from effective_access e
        where e.principal_type = 'member' and e.access = 'allow' and e.resource_kind = 'account' and ${grantsCapability('super-admin', [pattern])}
        group by e.account_id, e.principal_id
      )
      select a.id, a.name, count(*) filter (where sa.eff)::int as n,
             coalesce(array_agg(sa.who order by sa.who) filter (where sa.eff), '{}') as emails,
             count(*) filter (where not sa.eff and sa.pending)::int as pending,
             coalesce(array_agg(sa.who || ': ' || array_to_string(sa.via, '; ') order by sa.who) filter (where sa.eff), '{}') as via
      from accounts a join sa on sa.account_id = a.id
      where a.deleted_at is null
      group by a.id, a.name
      having count(*) filter (where sa.eff) > ${bind(max)}::int
      order by a.id`);
    return rows.map((r) => ({
      resourceKey: `account:${r.id}`, resourceType: 'account', resourceName: r.name, accountId: r.id,
      facts: { super_admins: r.n, max, members: r.emails, pending_super_admins: r.pending, via: r.via },
    }));
  },
};
