import pLimit from 'p-limit';
import type { Context } from '../context.js';
import { ACCOUNT_STREAMS, streamJob, validateSelection } from './catalog.js';
import { planInput, planRound } from './plan.js';
import { type RunOptions, runStream, type StreamOutcome } from './runner.js';

export interface SyncAllOptions extends RunOptions {
  /** Stream kinds or names; empty = all. */
  streams: string[];
  concurrency?: number;
}

/**
 * Walk the selected streams with the context's credentials. What each credential reaches is
 * walked first (account streams fan out over it); one stream failing never stops the others.
 */
export async function syncAll(ctx: Context, opts: SyncAllOptions): Promise<StreamOutcome[]> {
  const selection = opts.streams;
  validateSelection(selection, ctx.config.cloudflare.credentials.map((c) => c.name));
  const limit = pLimit(opts.concurrency ?? 4);
  const walk = (streams: string[]) => Promise.all(streams.map((s) => limit(() => runStream(ctx, streamJob(s), opts))));
  // A bare account kind (members) means every account: discover them first, with every credential.
  const discover = selection.length === 0 || selection.some((s) => !s.includes(':') && ACCOUNT_STREAMS[s] !== undefined);
  const first = planRound(await planInput(ctx, discover ? [] : selection), 'accounts');
  const outcomes = await walk(first.streams);
  const rest = planRound(await planInput(ctx, selection), 'rest');
  outcomes.push(...rest.notApplicable.map((n) => ({ stream: n.stream, status: 'not-applicable' as const, reason: n.reason })));
  outcomes.push(...(await walk(rest.streams)));
  return outcomes;
}
