// One rule in one check run: evaluate and apply in one transaction that holds the rule's
// findings lock, or, for a rule disabled or removed, resolve its open findings with the reason.
import { sql } from 'drizzle-orm';
import type { Context } from '../context.js';
import type { Tx } from '../db/client.js';
import { hitProblem } from '../db/queries/finding-hits.js';
import { lockRuleFindings } from '../db/queries/findings.js';
import type { FreshScope } from '../db/queries/findings-check-runs.js';
import { markRuleChecked, markRuleStatus, storedRuleIdentity } from '../db/queries/rule-states.js';
import type { FindingKind } from '../db/schema/findings.js';
import { applyRuleResult, type SuppressionWithReason, type Transition } from '../findings/apply.js';
import { REASONS } from '../findings/reasons.js';
import { resolveRuleSettings } from './config.js';
import { dayFactsOf, isFactsQuery } from './facts-query.js';
import type { Rule, RuleHit, Severity } from './types.js';

export interface RuleOutcome {
  ruleId: string;
  title: string;
  severity: Severity;
  kind: FindingKind;
  status: 'succeeded' | 'failed' | 'skipped' | 'disabled' | 'removed';
  /** Why it failed or was skipped. */
  reason?: string;
  /** The first check of this rule on this database (never checked, or disabled/removed before). */
  firstCheck?: boolean;
  hits: number;
  opened: number;
  reopened: number;
  resolved: number;
  durationMs: number;
}

/** What the outbox writer learns with each rule's transitions. */
export interface TransitionMeta {
  ruleId: string;
  firstCheck: boolean;
  /** The run was asked to be a baseline (`check --baseline`). */
  baseline: boolean;
  /** Accounts (and the user level) walked for the first time since the last check: their findings are not news. */
  fresh: FreshScope;
  /** The rule is disabled or removed: these are the resolutions of its open findings. */
  retiring?: boolean;
}

export type OnTransitions = (tx: Tx, transitions: Transition[], meta: TransitionMeta) => Promise<void>;

export interface RunState {
  now: Date;
  checkRunId: number;
  suppressions: SuppressionWithReason[];
  auditPresent: boolean;
  baseline: boolean;
  fresh: FreshScope;
  onTransitions?: OnTransitions;
  /** Every transition written in the run, in order. */
  transitions: Transition[];
}

export const blank = (rule: Pick<Rule, 'id' | 'title' | 'severity' | 'kind'>, status: RuleOutcome['status'], reason?: string): RuleOutcome =>
  ({ ruleId: rule.id, title: rule.title, severity: rule.severity, kind: rule.kind ?? 'state', status, reason, hits: 0, opened: 0, reopened: 0, resolved: 0, durationMs: 0 });

/** drizzle wraps database errors as "Failed query: <sql>"; the database's own message is the useful part. */
function messageOf(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  return e.cause instanceof Error && e.message?.startsWith('Failed query') ? e.cause.message : (e?.message ?? String(err));
}

function checkHits(hits: unknown): RuleHit[] {
  if (!Array.isArray(hits)) throw new Error('evaluate() did not return a list');
  for (const h of hits as RuleHit[]) {
    if (!h || typeof h.resourceKey !== 'string' || h.resourceKey === '') throw new Error('a hit has no resourceKey');
    if (typeof h.resourceType !== 'string' || h.resourceType === '') throw new Error(`hit ${h.resourceKey} has no resourceType`);
  }
  return hits as RuleHit[];
}

const count = (transitions: Transition[], kind: Transition['transition']) => transitions.filter((t) => t.transition === kind).length;

/**
 * A rule's statements sort its hits and plan (100k rows of facts: tens of MB); with the 4 MB
 * default each sort spills to disk. One check run runs at a time (withCheckLock), and this lasts
 * only for the rule's transaction.
 */
const RULE_WORK_MEM = '64MB';
const setRuleWorkMem = (tx: Tx) => tx.execute(sql`select set_config('work_mem', ${RULE_WORK_MEM}, true)`);

/** Evaluate one rule and apply its hits in one transaction. Never throws: a failure is an outcome. */
export async function runRule(ctx: Context, rule: Rule, state: RunState): Promise<RuleOutcome> {
  const settings = resolveRuleSettings(rule, ctx.config);
  const head = { ...rule, severity: settings.severity };
  if (settings.problems.length) return blank(head, 'failed', settings.problems.join('; '));
  if (!settings.enabled) return retireRule(ctx, head, 'disabled', state);
  if (rule.requires?.includes('audit_logs') && !state.auditPresent) return blank(head, 'skipped', 'the audit-log archive is empty');
  for (const note of settings.notes) ctx.log.warn({ rule: rule.id, note }, 'rule settings in an old form');
  const kind = rule.kind ?? 'state';
  const t0 = performance.now();
  try {
    const done = await ctx.db.transaction(async (tx) => {
      // Evaluate under the findings lock, in the transaction that applies the result.
      await lockRuleFindings(tx, rule.id);
      await setRuleWorkMem(tx);
      const ruleCtx = { db: tx, pool: ctx.db, config: ctx.config, now: state.now, thresholds: settings.thresholds };
      const hits = rule.hitsQuery ? await rule.hitsQuery(ruleCtx) : checkHits(await rule.evaluate(ruleCtx));
      const dayFacts = !Array.isArray(hits) && isFactsQuery(hits) ? dayFactsOf(hits.facts) : (rule.dayFacts ?? {});
      const before = await markRuleChecked(tx, rule.id, kind, state.now, dayFacts);
      const firstCheck = before.status !== 'active';
      const applied = await applyRuleResult(
        tx,
        { ruleId: rule.id, title: rule.title, kind, severity: rule.severity, severityOverride: settings.severityOverride, hits, retire: rule.retire, dayFacts },
        { suppressions: state.suppressions, now: state.now, checkRunId: state.checkRunId, confirmedAt: before.lastCheckedAt },
      );
      await state.onTransitions?.(tx, applied.transitions, { ruleId: rule.id, firstCheck, baseline: state.baseline, fresh: state.fresh });
      return { written: applied.transitions, hits: applied.hits, firstCheck };
    });
    const t = done.written;
    state.transitions.push(...t);
    return { ...blank(head, 'succeeded'), firstCheck: done.firstCheck, hits: done.hits, opened: count(t, 'opened'), reopened: count(t, 'reopened'), resolved: count(t, 'resolved'), durationMs: performance.now() - t0 };
  } catch (err) {
    return { ...blank(head, 'failed', hitProblem(err) ?? messageOf(err)), durationMs: performance.now() - t0 };
  }
}

/**
 * A rule disabled in config, or gone (removed from the code or the rules folder): its open
 * findings are resolved with that reason, through the outbox (incidents close; chat stays quiet).
 */
export async function retireRule(ctx: Context, rule: Pick<Rule, 'id' | 'title' | 'severity' | 'kind'>, status: 'disabled' | 'removed', state: RunState): Promise<RuleOutcome> {
  const t0 = performance.now();
  const reason = status === 'disabled' ? REASONS.ruleDisabled : REASONS.ruleRemoved;
  try {
    const t = await ctx.db.transaction(async (tx) => {
      const stored = await storedRuleIdentity(tx, rule.id);
      const kind = rule.kind ?? stored.kind;
      await markRuleStatus(tx, rule.id, status, kind, state.now);
      if (stored.open === 0) return [];
      const { transitions: written } = await applyRuleResult(
        tx,
        { ruleId: rule.id, title: status === 'removed' ? stored.title : rule.title, kind, severity: rule.severity, hits: [], retireAll: reason },
        { suppressions: state.suppressions, now: state.now, checkRunId: state.checkRunId, confirmedAt: stored.lastCheckedAt },
      );
      await state.onTransitions?.(tx, written, { ruleId: rule.id, firstCheck: false, baseline: state.baseline, fresh: state.fresh, retiring: true });
      return written;
    });
    state.transitions.push(...t);
    return { ...blank(rule, status, reason), resolved: count(t, 'resolved'), durationMs: performance.now() - t0 };
  } catch (err) {
    return { ...blank(rule, 'failed', `resolving the findings of a ${status} rule: ${messageOf(err)}`), durationMs: performance.now() - t0 };
  }
}
