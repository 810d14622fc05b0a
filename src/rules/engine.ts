import type { Config } from '../config.js';
import type { Context } from '../context.js';
import type { Tx } from '../db/client.js';
import { auditLogsPresent, finishCheckRun, openCountsByRule, startCheckRun } from '../db/queries/findings-check-runs.js';
import { listSuppressions } from '../db/queries/findings-suppressions.js';
import { applyRuleResult, type Transition } from '../findings/apply.js';
import type { SuppressionRule } from '../findings/suppression-match.js';
import { BUILTIN_RULES } from './catalog.js';
import { resolveRuleSettings } from './config.js';
import { loadCustomRules, type RuleLoadProblem } from './custom.js';
import type { Rule, RuleHit, Severity } from './types.js';

export interface RuleOutcome {
  ruleId: string;
  title: string;
  severity: Severity;
  status: 'succeeded' | 'failed' | 'skipped' | 'disabled';
  /** Why it failed or was skipped. */
  reason?: string;
  hits: number;
  opened: number;
  reopened: number;
  resolved: number;
  durationMs: number;
}

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
  onTransitions?: (tx: Tx, transitions: Transition[]) => Promise<void>;
}

export interface RuleSet {
  rules: Rule[];
  problems: RuleLoadProblem[];
}

/** The built-ins and the custom SQL rules of the configured folder, loaded now. */
export function loadRuleSet(config: Config): RuleSet {
  const custom = loadCustomRules(config.rulesDir, BUILTIN_RULES.map((r) => r.id));
  return { rules: [...BUILTIN_RULES, ...custom.rules], problems: custom.problems };
}

const blank = (rule: Pick<Rule, 'id' | 'title' | 'severity'>, status: RuleOutcome['status'], reason?: string): RuleOutcome =>
  ({ ruleId: rule.id, title: rule.title, severity: rule.severity, status, reason, hits: 0, opened: 0, reopened: 0, resolved: 0, durationMs: 0 });

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

interface RunState {
  now: Date;
  checkRunId: number;
  suppressions: SuppressionRule[];
  auditPresent: boolean;
}

/** Evaluate one rule and apply its hits in one transaction. Never throws: a failure is an outcome. */
async function runRule(ctx: Context, rule: Rule, state: RunState, opts: CheckOptions, into: Transition[]): Promise<RuleOutcome> {
  const settings = resolveRuleSettings(rule, ctx.config);
  const head = { ...rule, severity: settings.severity };
  if (settings.problems.length) return blank(head, 'failed', settings.problems.join('; '));
  if (!settings.enabled) return blank(head, 'disabled', 'disabled in config');
  if (rule.requires?.includes('audit_logs') && !state.auditPresent) return blank(head, 'skipped', 'the audit-log archive is empty');
  const t0 = performance.now();
  try {
    const hits = checkHits(await rule.evaluate({ db: ctx.db, config: ctx.config, now: state.now, thresholds: settings.thresholds }));
    const transitions = await ctx.db.transaction(async (tx) => {
      const written = await applyRuleResult(
        tx,
        { ruleId: rule.id, title: rule.title, severity: rule.severity, severityOverride: settings.severityOverride, hits },
        { suppressions: state.suppressions, now: state.now, checkRunId: state.checkRunId },
      );
      await opts.onTransitions?.(tx, written);
      return written;
    });
    into.push(...transitions);
    const count = (kind: Transition['transition']) => transitions.filter((t) => t.transition === kind).length;
    return { ...blank(head, 'succeeded'), hits: hits.length, opened: count('opened'), reopened: count('reopened'), resolved: count('resolved'), durationMs: performance.now() - t0 };
  } catch (err) {
    return { ...blank(head, 'failed', messageOf(err)), durationMs: performance.now() - t0 };
  }
}

/**
 * One check run: every rule, each on its own (a rule that throws is reported and the
 * others go on), each rule's findings written in one transaction. Only a rule that
 * evaluated successfully resolves findings; a failed or skipped rule leaves its findings
 * as they were. The check-runs job and `flarewatch run`/`check` all call this.
 */
export async function runChecks(ctx: Context, opts: CheckOptions = {}): Promise<CheckResult> {
  const set = opts.rules ? { rules: opts.rules, problems: opts.loadProblems ?? [] } : loadRuleSet(ctx.config);
  const log = ctx.log.child({ stage: 'check' });
  const now = ctx.now();
  const checkRunId = await startCheckRun(ctx.db, now);
  const suppressions = await listSuppressions(ctx.db);
  const state: RunState = { now, checkRunId, suppressions, auditPresent: await auditLogsPresent(ctx.db) };
  const transitions: Transition[] = [];
  const outcomes: RuleOutcome[] = set.problems.map((p) => blank({ id: p.ruleId, title: p.file, severity: 'medium' }, 'failed', `${p.file}: ${p.error}`));
  for (const rule of set.rules) {
    if (ctx.signal?.aborted) break;
    const outcome = await runRule(ctx, rule, state, opts, transitions);
    if (outcome.status === 'failed') log.warn({ rule: rule.id, err: outcome.reason }, 'rule failed; skipped');
    outcomes.push(outcome);
  }
  const open = await openCountsByRule(ctx.db);
  const ran = new Set(set.rules.map((r) => r.id));
  const failed = outcomes.filter((o) => o.status === 'failed');
  await finishCheckRun(
    ctx.db,
    checkRunId,
    {
      rulesRun: outcomes.filter((o) => o.status === 'succeeded').length,
      rulesFailed: failed.length,
      rulesSkipped: outcomes.filter((o) => o.status === 'skipped' || o.status === 'disabled').length,
      findingsOpened: outcomes.reduce((s, o) => s + o.opened + o.reopened, 0),
      findingsResolved: outcomes.reduce((s, o) => s + o.resolved, 0),
      findingsOpen: [...open].filter(([id]) => ran.has(id)).reduce((s, [, c]) => s + c.open, 0),
      errors: failed.map((o) => ({ rule: o.ruleId, error: o.reason ?? 'failed' })),
    },
    ctx.now(),
  );
  log.info({ checkRunId, rules: outcomes.length, failed: failed.length, transitions: transitions.length }, 'check run finished');
  return { checkRunId, outcomes, transitions, open, ok: failed.length === 0 };
}
