import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { TOKEN_COLUMNS, type TokenRow, daysAfter, iso, liveToken, numberSetting, query, tokenHit, type Timestamp } from './sql.js';

interface Row extends TokenRow { not_before: Timestamp | null; far_future: boolean; no_allow: boolean; policy_count: number }

export const tokenMisconfigured: Rule = {
  id: 'token-misconfigured',
  title: 'API token that cannot work as configured',
  severity: 'low',
  controls: ['SOC2:CC6.1', 'ISO27001:A.5.15', 'PCI:7.2.5'],
  rationale:
    'A token whose not_before is far in the future, or whose policies only deny, grants nothing today: it is either a ' +
    'typo (a year instead of a day) or a leftover. Either way it is a live secret whose meaning nobody can explain, and ' +
    'fixing its dates or policies later silently turns it into real access.',
  remediation: 'Check with the owner what the token is for; fix not_before or add the intended allow policy, or delete the token.',
  thresholds: { notBeforeDays: { default: 7, description: 'not_before further than this many days ahead is reported' } },
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'notBeforeDays');
    // Only live tokens: a disabled or expired one is already known not to work.
    const rows = await query<Row>(ctx, sql`
      select * from (
        select ${TOKEN_COLUMNS}, t.not_before,
               coalesce(t.not_before > ${daysAfter(ctx.now, days)}, false) as far_future,
               not exists (select 1 from jsonb_array_elements(case when jsonb_typeof(t.policies) = 'array' then t.policies else '[]' end) p
                           where lower(p ->> 'effect') = 'allow') as no_allow,
               case when jsonb_typeof(t.policies) = 'array' then jsonb_array_length(t.policies) else 0 end as policy_count
        from api_tokens t
        where ${liveToken(ctx.now)}
      ) t
      where far_future or no_allow
      order by id`);
    return rows.map((r) => tokenHit(r, {
      reasons: [...(r.far_future ? ['not_before_far_in_future'] : []), ...(r.no_allow ? [r.policy_count ? 'only_deny_policies' : 'no_policies'] : [])],
      not_before: iso(r.not_before),
      policy_count: r.policy_count,
      threshold_days: days,
    }));
  },
};
