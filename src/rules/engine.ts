import type { Config } from '../config.js';
import type { Context } from '../context.js';
import { auditLogsPresent, finishCheckRun, freshScope, openCountsByRule, startCheckRun } from '../db/queries/findings-check-runs.js';
import { listSuppressions } from '../db/queries/findings-suppressions.js';
import { liveRuleIds, markRulesNotChecked } from '../db/queries/rule-states.js';
import type { Transition } from '../findings/apply.js';
import { BUILTIN_RULES } from './catalog.js';
import { withCheckLock } from './check-lock.js';
import { loadCustomRules, type RuleLoadProblem } from './custom.js';
import { blank, type OnTransitions, retireRule, type RuleOutcome, runRule, type RunState } from './rule-run.js';
import type { Rule } from './types.js';

export type { OnTransitions, RuleOutcome, TransitionMeta } from './rule-run.js';

export interface CheckResult {
  checkRunId: number;
  outcomes: RuleOutcome[];
  transitions: Transition[];
  /** Open findings per rule after the run (suppressed counted apart). */
  open: Map<string, { open: number; suppressed: number }>;
  /** False when a rule failed or could not be loaded. */
  ok: boolean;
}

export interface CheckOptions {
  /** The rules to run; default: the built-ins plus the custom SQL rules of config.rulesDir. */
  rules?: Rule[];
  /** Rules that could not be loaded, reported as failed. Default: from loading config.rulesDir. */
  loadProblems?: RuleLoadProblem[];
  /** Runs inside each rule's transaction with what it wrote (the alerts stage writes its outbox here). */
  onTransitions?: OnTransitions;
  /**
   * `rules` is every rule there is, so open findings of any other rule belong to a removed
   * rule and are resolved. Default: true when the rules are loaded from config, false when given.
   */
  complete?: boolean;
  /** Record what this run finds without per-finding alerts (`flarewatch check --baseline`). */
  baseline?: boolean;
}

export interface RuleSet {
  rules: Rule[];
  problems: RuleLoadProblem[];
}

/** The built-ins and the custom SQL rules of the configured folder, loaded now. */
export function loadRuleSet(config: Pick<Config, 'rulesDir'>): RuleSet {
  const custom = loadCustomRules(config.rulesDir, BUILTIN_RULES.map((r) => r.id));
  return { rules: [...BUILTIN_RULES, ...custom.rules], problems: custom.problems };
}

/** Rules the database knows that are neither in the set nor failing to load: their findings are of removed rules. */
async function removedRules(ctx: Context, set: RuleSet): Promise<string[]> {
  const known = new Set([...set.rules.map((r) => r.id), ...set.problems.map((p) => p.ruleId)]);
  return (await liveRuleIds(ctx.db)).filter((id) => !known.has(id)).sort();
}

/**
 * One check run: every rule, each on its own (a rule that throws is reported and the
 * others go on), each rule evaluated and its findings written in one transaction. Only a
 * rule that evaluated successfully resolves findings; a failed or skipped rule leaves its
 * findings as they were; a disabled or removed rule's findings are resolved with that reason.
 * One run at a time across every process (withCheckLock). The check-runs job and
 * `flarewatch run`/`check` all call this.
 */
export async function runChecks(ctx: Context, opts: CheckOptions = {}): Promise<CheckResult> {
  return withCheckLock(ctx, () => checkRun(ctx, opts));
}

async function checkRun(ctx: Context, opts: CheckOptions): Promise<CheckResult> {
  const set = opts.rules ? { rules: opts.rules, problems: opts.loadProblems ?? [] } : loadRuleSet(ctx.config);
  const complete = opts.complete ?? !opts.rules;
  const log = ctx.log.child({ stage: 'check' });
  const now = ctx.now();
  const checkRunId = await startCheckRun(ctx.db, now);
  const state: RunState = {
    now, checkRunId, suppressions: await listSuppressions(ctx.db), auditPresent: await auditLogsPresent(ctx.db),
    baseline: opts.baseline === true, fresh: await freshScope(ctx.db, checkRunId), onTransitions: opts.onTransitions, transitions: [],
  };
  const outcomes: RuleOutcome[] = set.problems.map((p) => blank({ id: p.ruleId, title: p.file, severity: 'medium' }, 'failed', `${p.file}: ${p.error}`));
  for (const rule of set.rules) {
    if (ctx.signal?.aborted) break;
    const outcome = await runRule(ctx, rule, state);
    if (outcome.status === 'failed') log.warn({ rule: rule.id, err: outcome.reason }, 'rule failed; skipped');
    outcomes.push(outcome);
  }
  if (complete && !ctx.signal?.aborted) {
    for (const id of await removedRules(ctx, set)) outcomes.push(await retireRule(ctx, { id, title: id, severity: 'medium' }, 'removed', state));
  }
  const transitions = state.transitions;
  const open = await openCountsByRule(ctx.db);
  const failed = outcomes.filter((o) => o.status === 'failed');
  // One transaction: the rules that did not succeed lose their record before the run counts as finished (rule_last_checked()).
  await ctx.db.transaction(async (tx) => {
    await markRulesNotChecked(tx, outcomes.filter((o) => o.status === 'succeeded').map((o) => o.ruleId));
    await finishCheckRun(tx, checkRunId, runTotals(outcomes, open, new Set(set.rules.map((r) => r.id))), ctx.now());
  });
  log.info({ checkRunId, rules: outcomes.length, failed: failed.length, transitions: transitions.length }, 'check run finished');
  return { checkRunId, outcomes, transitions, open, ok: failed.length === 0 };
}

/** What a check run records of itself: counts of rules and findings, and each failed rule's error. */
function runTotals(outcomes: RuleOutcome[], open: CheckResult['open'], ran: Set<string>): Parameters<typeof finishCheckRun>[2] {
  const failed = outcomes.filter((o) => o.status === 'failed');
  return {
    rulesRun: outcomes.filter((o) => o.status === 'succeeded').length,
    rulesFailed: failed.length,
    rulesSkipped: outcomes.filter((o) => o.status === 'skipped' || o.status === 'disabled').length,
    findingsOpened: outcomes.reduce((s, o) => s + o.opened + o.reopened, 0),
    findingsResolved: outcomes.reduce((s, o) => s + o.resolved, 0),
    findingsOpen: [...open].filter(([id]) => ran.has(id)).reduce((s, [, c]) => s + c.open, 0),
    errors: failed.map((o) => ({ rule: o.ruleId, error: o.reason ?? 'failed' })),
  };
}
