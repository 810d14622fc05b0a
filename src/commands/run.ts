import { syncConcurrency } from '../config.js';
import type { Context } from '../context.js';
import { preflight } from '../credentials/identity.js';
import { type AlertsResult, runAlerts } from '../alerts/deliver.js';
import { runDigest } from '../alerts/digest.js';
import { outboxWriter } from '../alerts/outbox.js';
import { queueBaselineSummary } from '../alerts/summary.js';
import { type CheckOptions, type CheckResult, loadRuleSet, runChecks as runRuleChecks } from '../rules/engine.js';
import { runHygiene } from '../remediation/hygiene.js';
import { applyAuditPacking } from '../sync/audit-pack.js';
import { applyAuditRetention } from '../sync/audit-retention.js';
import { syncAll } from '../sync/sync-all.js';
import { withStreamLock } from '../sync/stream-lock.js';
import type { StreamOutcome } from '../sync/runner.js';

/** Nothing can be walked: every credential failed its verification (or the API is unreachable). One line each. */
export class PreflightError extends Error {
  override name = 'PreflightError';
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

export interface RunResult {
  outcomes: StreamOutcome[];
  /** Credentials that failed verification: their streams were not walked. */
  credentialFailures: string[];
  /** The check run after the sync (absent when checks were not asked for). */
  checks?: CheckResult;
  /** Alert delivery after the checks (absent when checks were not asked for). */
  alerts?: AlertsResult;
  /** False when a stream failed (a rule that failed is reported in `checks`, a failed send in `alerts`, not here). */
  ok: boolean;
}

/**
 * The check stage, as the daemon's checks job and `run`/`check` call it: every rule once,
 * each rule's alerts written to the outbox in the transaction of its transitions, then the
 * summary of a baseline. One run at a time across processes (the engine's check lock).
 */
export async function runChecks(ctx: Context, opts: CheckOptions = {}): Promise<CheckResult> {
  const set = opts.rules ? { rules: opts.rules, problems: opts.loadProblems ?? [] } : loadRuleSet(ctx.config);
  const onTransitions = opts.onTransitions ?? outboxWriter(ctx, set.rules);
  const result = await runRuleChecks(ctx, { ...opts, rules: set.rules, loadProblems: set.problems, onTransitions, complete: opts.complete ?? !opts.rules });
  await queueBaselineSummary(ctx);
  // Hygiene policies are not run here: they have their own job (remediation.hygiene) and `fix hygiene`.
  return result;
}

/** The alert stages, as the daemon's alerts.deliver / alerts.digest jobs and `run`/`alert` call them. */
export { runAlerts, runDigest };

/**
 * The one-shot pipeline: every stream once, then the later stages. The same functions
 * the daemon's jobs call; here they run in-process, in order, without Redis.
 */
export async function runOnce(ctx: Context, opts: { streams?: string[]; checks?: boolean; confirmDeletions?: boolean; baseline?: boolean } = {}): Promise<RunResult> {
  // Every credential verified up front, quickly: a wrong base URL or a revoked token is one line in
  // seconds, not one error per stream. Credentials that fail walk nothing; the others go on.
  const check = await preflight(ctx);
  if (check.fatal) throw new PreflightError(check.failures.map((f) => f.error));
  for (const f of check.failures) ctx.log.error({ credential: f.credential }, f.error);
  const outcomes = await syncAll({ ...ctx, credentials: check.usable }, {
    streams: opts.streams ?? ctx.config.sync.streams, confirmDeletions: opts.confirmDeletions,
    // Each walk holds one pooled connection for its whole length: never more walks than the pool can carry.
    concurrency: syncConcurrency(ctx.db.$client.options.max ?? 10),
  });
  await applyAuditRetention(ctx);
  await applyAuditPacking(ctx);
  // Checks run even when a stream failed: a failed walk changes nothing it did not finish,
  // so the rules see the last complete picture of that stream.
  const checks = opts.checks === false ? undefined : await runChecks(ctx, { baseline: opts.baseline });
  // The one-shot pipeline runs every stage once, hygiene policies included (one run at a time across processes).
  if (checks) await withStreamLock(ctx.db, 'remediation-hygiene', () => runHygiene(ctx));
  const alerts = checks ? await runAlerts(ctx) : undefined;
  const credentialFailures = check.failures.map((f) => f.error);
  return { outcomes, credentialFailures, checks, alerts, ok: credentialFailures.length === 0 && !outcomes.some((o) => o.status === 'failed') };
}
