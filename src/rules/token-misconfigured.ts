import { type SQL, sql } from 'drizzle-orm';
import { daysAfter, isoFact, liveToken, num, numberSetting, sqlRule, tokenFactsQuery } from './sql.js';

export const tokenMisconfigured = sqlRule({
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
  hitsQuery(ctx) {
    const days = numberSetting(ctx, 'notBeforeDays');
    // Only live tokens: a disabled or expired one is already known not to work.
    const reasons = sql`array_remove(array[case when t.far_future then 'not_before_far_in_future' end,
                                          case when t.no_allow then case when t.policy_count > 0 then 'only_deny_policies' else 'no_policies' end end]::text[], null)`;
    const facts = [
      { key: 'reasons', input: reasons, render: (r: SQL) => sql`to_jsonb(${r})` }, isoFact('not_before', sql`t.not_before`),
      { key: 'policy_count', input: sql`t.policy_count` }, { key: 'threshold_days', input: num(days) },
    ];
    return tokenFactsQuery(facts, (columns) => sql`
      select ${columns}
      from (
        select t.id, t.name, t.owner_type, t.account_id, t.not_before,
               coalesce(t.not_before > ${daysAfter(ctx.now, days)}, false) as far_future,
               not exists (select 1 from jsonb_array_elements(case when jsonb_typeof(t.policies) = 'array' then t.policies else '[]' end) p
                           where lower(p ->> 'effect') = 'allow') as no_allow,
               case when jsonb_typeof(t.policies) = 'array' then jsonb_array_length(t.policies) else 0 end as policy_count
        from api_tokens t
        where ${liveToken(ctx.now)}
      ) t
      where t.far_future or t.no_allow
      order by t.id`);
  },
});
