import type { Context } from '../context.js';
import { applyAuditRetention } from '../sync/audit-retention.js';
import { syncAll } from '../sync/sync-all.js';
import type { StreamOutcome } from '../sync/runner.js';

export interface RunResult {
  outcomes: StreamOutcome[];
  ok: boolean;
}

/**
 * The one-shot pipeline: every stream once, then the later stages. The same functions
 * the daemon's jobs call; here they run in-process, in order, without Redis.
 */
export async function runOnce(ctx: Context, opts: { streams?: string[] } = {}): Promise<RunResult> {
  const outcomes = await syncAll(ctx, { streams: opts.streams ?? ctx.config.sync.streams });
  await applyAuditRetention(ctx);
  return { outcomes, ok: !outcomes.some((o) => o.status === 'failed') };
}
