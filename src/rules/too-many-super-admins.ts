import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { bind, numberSetting, query } from './sql.js';

interface Row extends Record<string, unknown> { id: string; name: string; n: number; emails: string[]; pending: number }

export const tooManySuperAdmins: Rule = {
  id: 'too-many-super-admins',
  title: 'Too many super administrators',
  severity: 'medium',
  controls: ['SOC2:CC6.3', 'ISO27001:A.8.2', 'PCI:7.2.2'],
  rationale:
    'A super administrator can do everything, including removing the other super administrators and changing billing. ' +
    'Every extra one is another account whose compromise is total; two are enough for redundancy.',
  remediation: 'Downgrade the super administrators who do not manage memberships or billing to Administrator or narrower roles.',
  thresholds: {
    max: { default: 2, description: 'accepted super administrators allowed per account' },
    rolePattern: { default: 'Super Administrator%', description: 'role name (ILIKE pattern) that counts as super administrator' },
  },
  async evaluate(ctx) {
    const max = numberSetting(ctx, 'max');
    const pattern = ctx.thresholds.rolePattern;
    if (typeof pattern !== 'string') throw new Error(`threshold rolePattern must be a string, got ${JSON.stringify(pattern)}`);
    // Accepted members hold the role; pending ones are reported alongside because they will once they accept.
    const rows = await query<Row>(ctx, sql`
      select a.id, a.name,
             count(*) filter (where m.status = 'accepted')::int as n,
             coalesce(array_agg(coalesce(m.email, m.id) order by m.email, m.id) filter (where m.status = 'accepted'), '{}') as emails,
             count(*) filter (where m.status = 'pending')::int as pending
      from accounts a join account_members m on m.account_id = a.id and m.deleted_at is null
      where a.deleted_at is null
        and exists (select 1 from unnest(coalesce(m.role_names, '{}'::text[])) r(name) where r.name ilike ${bind(pattern)})
      group by a.id, a.name
      having count(*) filter (where m.status = 'accepted') > ${bind(max)}::int
      order by a.id`);
    return rows.map((r) => ({
      resourceKey: `account:${r.id}`, resourceType: 'account', resourceName: r.name, accountId: r.id,
      facts: { super_admins: r.n, max, members: r.emails, pending_super_admins: r.pending },
    }));
  },
};
