import { sql } from 'drizzle-orm';
import type { Context } from '../context.js';
import { decisionsOf, latestReview } from '../db/queries/reviews.js';
import type { RemediationKind } from '../db/schema/index.js';
import { loadRuleSet } from '../rules/engine.js';
import { SEVERITIES, type Severity } from '../rules/types.js';
import type { TokenPolicyInput } from './actions.js';

/** What a plan is asked to change, before anything is read: an object key, the action and why. */
export interface PlanItem { key: string; kind: RemediationKind | undefined; findingId: number | null; reason: string; policies?: TokenPolicyInput[] }

export interface FindingFilter { rule?: string[]; finding?: number[]; severity?: Severity; control?: string }

/** The action a finding of each rule calls for; a finding with `suggestedPolicies` in its facts is narrowed instead. */
export const ACTION_FOR_RULE: Record<string, RemediationKind> = {
  'token-unused': 'token-disable',
  'token-never-used': 'token-disable',
  'token-no-expiry': 'token-set-expiry',
  'token-expired-present': 'token-delete',
  'invite-pending': 'invitation-remove',
  'invite-stale': 'invitation-remove',
};

const suggested = (facts: unknown): TokenPolicyInput[] | undefined => {
  const s = (facts as { suggestedPolicies?: unknown } | null)?.suggestedPolicies;
  return Array.isArray(s) && s.length ? (s as TokenPolicyInput[]) : undefined;
};

/** Open, unsuppressed findings matching every filter given, as plan items. */
export async function itemsFromFindings(ctx: Pick<Context, 'db' | 'config'>, f: FindingFilter): Promise<PlanItem[]> {
  let rules = f.rule;
  if (f.control) {
    const c = f.control.toLowerCase();
    const ids = loadRuleSet(ctx.config).rules.filter((r) => (r.controls ?? []).some((x) => x.toLowerCase() === c || x.toLowerCase().startsWith(`${c}.`))).map((r) => r.id);
    rules = rules ? rules.filter((r) => ids.includes(r)) : ids;
  }
  const minSeverity = f.severity ? SEVERITIES.slice(SEVERITIES.indexOf(f.severity)) : undefined;
  const { rows } = await ctx.db.execute<{ id: string; rule_id: string; resource_key: string; resource_type: string; facts: unknown; title: string }>(sql`
    select id, rule_id, resource_key, resource_type, facts, title from findings
    where status = 'open' and not suppressed and kind = 'state'
      ${rules ? sql`and rule_id in (${sql.join(rules.length ? rules.map((r) => sql`${r}`) : [sql`null`], sql`, `)})` : sql``}
      ${f.finding ? sql`and id in (${sql.join(f.finding.map((i) => sql`${i}`), sql`, `)})` : sql``}
      ${minSeverity ? sql`and severity in (${sql.join(minSeverity.map((s) => sql`${s}`), sql`, `)})` : sql``}
    order by id`);
  return rows.map((r) => {
    const policies = suggested(r.facts);
    return { key: r.resource_key, kind: policies ? 'token-narrow' : ACTION_FOR_RULE[r.rule_id], findingId: Number(r.id),
      reason: `finding ${r.id} (${r.rule_id}): ${r.title}`, ...(policies ? { policies } : {}) };
  });
}

/** The items a review decided to revoke (the latest decision per item), or those of the latest review. */
export async function itemsFromReview(ctx: Pick<Context, 'db'>, reviewId: number | undefined): Promise<{ reviewId: number; items: PlanItem[] }> {
  const id = reviewId ?? (await latestReview(ctx.db))?.id;
  if (id === undefined) return { reviewId: 0, items: [] };
  const latest = new Map<string, { decision: string; by: string; note: string | null }>();
  for (const d of await decisionsOf(ctx.db, id)) latest.set(d.itemKey, { decision: d.decision, by: d.decidedBy, note: d.note });
  const items = [...latest].filter(([, d]) => d.decision === 'revoke').map(([key, d]) => ({
    key, kind: key.startsWith('token:') ? 'token-disable' as const : 'member-remove' as const, findingId: null,
    reason: `review ${id}: revoke decided by ${d.by}${d.note ? ` (${d.note})` : ''}`,
  }));
  return { reviewId: id, items };
}
