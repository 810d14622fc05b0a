import { type SQL, sql } from 'drizzle-orm';
import { DEFAULT_SENSITIVE_GROUPS, DEFAULT_WRITE_GROUPS, MODEL_SUMMARY, assessmentTemplate, severityOf } from './policy-model.js';
import type { RuleContext } from './types.js';
import type { FactsQuery } from './facts-query.js';
import { groupNames, liveToken, policiesSensitiveOrBroadWrite, query, sqlRule, stringsSetting, tokenFactsQuery } from './sql.js';

/**
 * A token's policies without their ids: what the model judges (a policy's id only names it in the
 * facts), so tokens made from one template share it. Hashed, as the key it is joined on.
 */
const POLICY_SET_KEY = sql`md5(coalesce((
  select jsonb_agg(case when jsonb_typeof(p.value) = 'object' then p.value - 'id' else p.value end order by p.n)
  from jsonb_array_elements(case when jsonb_typeof(t.policies) = 'array' then t.policies else '[]'::jsonb end) with ordinality p(value, n)), '[]'::jsonb)::text)`;

/** A template's grants (`list`) with each one's policy id put back from the token's own policies. */
const withPolicyIds = (list: SQL, policies: SQL) => sql`(
  select coalesce(jsonb_agg((g.value - 'policy_index') || jsonb_build_object('policy_id', case when jsonb_typeof(p.policy -> 'id') = 'string' then p.policy -> 'id' end) order by g.n), '[]'::jsonb)
  from jsonb_array_elements(${list}) with ordinality g(value, n)
  cross join lateral (select ${policies} -> (g.value ->> 'policy_index')::int as policy) p)`;

/**
 * The candidates (the SQL filter of the same model) are staged with their policy-set key; the model
 * judges each distinct policy set once, in Node (./policy-model.ts has the last word), and the
 * facts of every token are built in PostgreSQL from its set's judgement, its own policy ids put back.
 */
async function hitsQuery(ctx: RuleContext): Promise<FactsQuery> {
  const model = { sensitiveGroups: stringsSetting(ctx, 'sensitiveGroups'), writeGroups: stringsSetting(ctx, 'writeGroups') };
  await ctx.db.execute(sql`drop table if exists pg_temp.broad_policy_tokens`);
  await ctx.db.execute(sql`
    create temp table broad_policy_tokens on commit drop as
    select t.id, t.name, t.owner_type, t.account_id, t.policies, ${POLICY_SET_KEY} as policy_set
    from api_tokens t
    where ${liveToken(ctx.now)} and ${policiesSensitiveOrBroadWrite(sql`t.policies`, model)}`);
  const sets = await query<{ policy_set: string; policies: unknown }>(ctx, sql`
    select distinct on (policy_set) policy_set, policies from broad_policy_tokens order by policy_set, id`);
  const names = sets.length ? await groupNames(ctx) : new Map<string, string>();
  const judged = sets.flatMap((s) => {
    const a = assessmentTemplate(s.policies, { ...model, groupNames: names });
    return a.verdict ? [{ policy_set: s.policy_set, severity: severityOf(a), ...a }] : [];
  });
  const grants = (own: SQL, of: (key: string) => SQL) => withPolicyIds(own, of('policies'));
  const facts = [
    { key: 'policies', input: sql`t.policies`, hidden: true },
    { key: 'verdict', input: sql`v.verdict` }, { key: 'sensitive_groups', input: sql`v.sensitive_groups` },
    { key: 'sensitive_grants', input: sql`v.sensitive_grants`, render: grants }, { key: 'broad_write_grants', input: sql`v.broad_write_grants`, render: grants },
    { key: 'policy_model', input: sql`${MODEL_SUMMARY}::text` },
  ];
  return tokenFactsQuery(facts, (columns) => sql`
    select ${columns}
    from broad_policy_tokens t
    join jsonb_to_recordset(${JSON.stringify(judged)}::jsonb)
      as v(policy_set text, severity text, verdict text, sensitive_groups jsonb, sensitive_grants jsonb, broad_write_grants jsonb) on v.policy_set = t.policy_set
    order by t.id`, sql`v.severity`);
}

export const tokenBroadPolicy = sqlRule({
  id: 'token-broad-policy',
  title: 'API token with a broad or sensitive policy',
  severity: 'high',
  controls: ['SOC2:CC6.1', 'SOC2:CC6.3', 'ISO27001:A.5.15', 'ISO27001:A.5.18', 'ISO27001:A.8.2', 'PCI:7.2.2', 'PCI:7.2.5'],
  rationale:
    'A token that can write to every account or every zone turns one leaked secret into an organisation-wide incident; ' +
    'a token that can manage tokens, memberships, account settings or billing lets its holder mint new credentials, ' +
    'add themselves as a member or switch off account protections, so a leak cannot be contained by revoking it. ' +
    'Model: sensitive group anywhere = critical; Write/Edit (or Cache Purge) on all accounts or all zones = high; deny policies are not subtracted.',
  remediation:
    'Split the token by job: scope each policy to the specific accounts and zones it needs, grant Read instead of Write ' +
    'where possible, and keep token, membership, settings and billing management out of automation tokens (use the ' +
    'dashboard with 2FA for those). Add an IP restriction and an expiry to whatever remains broad.',
  thresholds: {
    sensitiveGroups: { default: [...DEFAULT_SENSITIVE_GROUPS], description: 'permission groups that are critical wherever they are granted' },
    writeGroups: { default: [...DEFAULT_WRITE_GROUPS], description: 'groups that count as write although their name does not end in Write/Edit' },
  },
  hitsQuery,
});
