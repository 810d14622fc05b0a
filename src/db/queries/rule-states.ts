import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import type { FindingKind } from '../schema/findings.js';
import type { RuleStatus } from '../schema/rule-states.js';
import { stableJson } from '../../findings/fingerprint.js';
import type { DayFacts } from '../../rules/facts-query.js';

// What the checks remember of each rule between runs (rule_states). Plain statements; the
// engine decides what a first check or a removed rule means.

/**
 * Record a successful check of the rule now; returns its status before (null for a rule never seen
 * here: anything but 'active' makes this the rule's first check, a baseline) and its last successful
 * check before this one. A rule that succeeded in every finished run since its row was written is
 * not written again (rule_last_checked() derives the time from check_runs, migration 0027):
 * a steady check writes no row here. `dayFacts`: the rule's facts that count days, as readers
 * count them again (finding_facts(), migration 0030); written when they differ.
 */
export async function markRuleChecked(
  tx: Tx, ruleId: string, kind: FindingKind, now: Date, dayFacts: DayFacts = {},
): Promise<{ status: RuleStatus | null; lastCheckedAt: Date | null }> {
  const before = await tx.execute<{ status: RuleStatus; kind: FindingKind; every: boolean; last_checked_at: string | Date; day_facts: DayFacts }>(
    sql`select r.status, r.kind, r.checked_every_run as every, rule_last_checked(r) as last_checked_at, r.day_facts from rule_states r where r.rule_id = ${ruleId} for update`,
  );
  const row = before.rows[0];
  if (!row || row.status !== 'active' || row.kind !== kind || !row.every || stableJson(row.day_facts) !== stableJson(dayFacts)) {
    await tx.execute(sql`
      insert into rule_states (rule_id, kind, status, first_checked_at, last_checked_at, status_changed_at, checked_every_run, day_facts)
      values (${ruleId}, ${kind}, 'active', ${now}, ${now}, ${now}, true, ${JSON.stringify(dayFacts)}::jsonb)
      on conflict (rule_id) do update set kind = excluded.kind, status = 'active', last_checked_at = excluded.last_checked_at, checked_every_run = true,
        day_facts = excluded.day_facts,
        status_changed_at = case when rule_states.status <> 'active' then excluded.status_changed_at else rule_states.status_changed_at end`);
  }
  return { status: row?.status ?? null, lastCheckedAt: row ? new Date(row.last_checked_at) : null };
}

/**
 * The end of a check run, before it is marked finished: every rule that did not succeed in it
 * (failed, skipped, not reached, not in the run's set) loses its record, which keeps the last
 * successful check it had (the latest finished run before this one). Writes only those rows.
 */
export async function markRulesNotChecked(tx: Tx, succeeded: string[]): Promise<void> {
  await tx.execute(sql`
    update rule_states r set checked_every_run = false, last_checked_at = rule_last_checked(r)
    where r.checked_every_run and r.rule_id <> all(${sql.param(succeeded)}::text[])`);
}

/** A rule disabled in config, or gone from the rule set: written when that is news, not every run. */
export async function markRuleStatus(tx: Tx, ruleId: string, status: Exclude<RuleStatus, 'active'>, kind: FindingKind, now: Date): Promise<void> {
  await tx.execute(sql`
    insert into rule_states (rule_id, kind, status, first_checked_at, last_checked_at, status_changed_at)
    values (${ruleId}, ${kind}, ${status}, ${now}, ${now}, ${now})
    on conflict (rule_id) do update set status = excluded.status, summary_pending = false, checked_every_run = false, last_checked_at = rule_last_checked(rule_states),
      status_changed_at = case when rule_states.status <> excluded.status then excluded.status_changed_at else rule_states.status_changed_at end
    where rule_states.status <> excluded.status or rule_states.summary_pending or rule_states.checked_every_run`);
}

/** A baseline checked the rule and recorded `silenced` findings without alerts: a summary is due. */
export async function markSummaryPending(tx: Tx, ruleId: string, silenced: number): Promise<void> {
  await tx.execute(sql`update rule_states set summary_pending = true, baselined = baselined + ${silenced} where rule_id = ${ruleId}`);
}

/** Take the rules whose baseline summary is due (one taker wins: the flag is cleared in the same statement). */
export async function takePendingSummaries(tx: Tx): Promise<{ rules: string[]; baselined: number }> {
  const res = await tx.execute<{ rule_id: string; baselined: number }>(sql`
    update rule_states r set summary_pending = false, baselined = 0
    from (select rule_id, baselined from rule_states where summary_pending for update) p
    where r.rule_id = p.rule_id
    returning r.rule_id, p.baselined`);
  return { rules: res.rows.map((r) => r.rule_id).sort(), baselined: res.rows.reduce((n, r) => n + r.baselined, 0) };
}

/** Rules the database knows as live: active in rule_states, or with open findings. */
export async function liveRuleIds(tx: Tx): Promise<string[]> {
  const res = await tx.execute<{ rule_id: string }>(sql`
    select rule_id from rule_states where status = 'active'
    union select distinct rule_id from findings where status = 'open'`);
  return res.rows.map((r) => r.rule_id);
}

/** What a rule that is gone from the rule set was called, what kind its findings are, and when it was last checked. */
export async function storedRuleIdentity(tx: Tx, ruleId: string): Promise<{ title: string; kind: FindingKind; open: number; lastCheckedAt: Date | null }> {
  const res = await tx.execute<{ title: string | null; kind: FindingKind | null; open: number; last_checked_at: string | Date | null }>(sql`
    select (select title from findings where rule_id = ${ruleId} order by updated_at desc limit 1) as title,
           coalesce((select kind from rule_states where rule_id = ${ruleId}), (select kind from findings where rule_id = ${ruleId} limit 1)) as kind,
           (select count(*)::int from findings where rule_id = ${ruleId} and status = 'open') as open,
           (select rule_last_checked(r) from rule_states r where r.rule_id = ${ruleId}) as last_checked_at`);
  const r = res.rows[0];
  const lastCheckedAt = r?.last_checked_at ? new Date(r.last_checked_at) : null;
  return { title: r?.title ?? ruleId, kind: r?.kind ?? 'state', open: r?.open ?? 0, lastCheckedAt };
}
