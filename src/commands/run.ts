import type { Context } from '../context.js';
import { type CheckResult, runChecks } from '../rules/engine.js';
import { applyAuditRetention } from '../sync/audit-retention.js';
import { syncAll } from '../sync/sync-all.js';
import type { StreamOutcome } from '../sync/runner.js';

export interface RunResult {
  outcomes: StreamOutcome[];
  /** The check run after the sync (absent when checks were not asked for). */
  checks?: CheckResult;
  /** False when a stream failed (a rule that failed is reported in `checks`, not here). */
  ok: boolean;
}

/** The check stage, as the daemon's checks job and `run` call it: every rule once. */
export { runChecks };

/**
 * The one-shot pipeline: every stream once, then the later stages. The same functions
 * the daemon's jobs call; here they run in-process, in order, without Redis.
 */
export async function runOnce(ctx: Context, opts: { streams?: string[]; checks?: boolean } = {}): Promise<RunResult> {
  const outcomes = await syncAll(ctx, { streams: opts.streams ?? ctx.config.sync.streams });
  await applyAuditRetention(ctx);
  // Checks run even when a stream failed: a failed walk changes nothing it did not finish,
  // so the rules see the last complete picture of that stream.
  const checks = opts.checks === false ? undefined : await runChecks(ctx);
  return { outcomes, checks, ok: !outcomes.some((o) => o.status === 'failed') };
}
