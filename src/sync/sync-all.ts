import { and, isNull } from 'drizzle-orm';
import pLimit from 'p-limit';
import type { Context } from '../context.js';
import { accounts } from '../db/schema/index.js';
import { accountsStream } from './accounts.js';
import { ALL_KINDS, needsAccounts, planStreams, validateSelection } from './catalog.js';
import { runStream, type StreamOutcome } from './runner.js';

export interface SyncAllOptions {
  /** Stream kinds or names; empty = all. */
  streams: string[];
  concurrency?: number;
}

async function knownAccountIds(ctx: Context): Promise<string[]> {
  const rows = await ctx.db.select({ id: accounts.id }).from(accounts).where(and(isNull(accounts.deletedAt)));
  const allow = ctx.config.cloudflare.accounts;
  return rows.map((r) => r.id).filter((id) => allow.length === 0 || allow.includes(id)).sort();
}

/**
 * Walk the selected streams. Accounts are discovered first (account-level streams fan out
 * over them); one stream failing never stops the others.
 */
export async function syncAll(ctx: Context, opts: SyncAllOptions): Promise<StreamOutcome[]> {
  const wanted = opts.streams.length ? opts.streams : ALL_KINDS;
  validateSelection(wanted);
  const outcomes: StreamOutcome[] = [];
  if (wanted.includes('accounts') || needsAccounts(wanted)) outcomes.push(await runStream(ctx, accountsStream()));
  // planStreams reads an empty selection as "every stream": only 'accounts' asked for means nothing more.
  const rest = wanted.filter((s) => s !== 'accounts');
  const jobs = rest.length ? planStreams(rest, await knownAccountIds(ctx)) : [];
  const limit = pLimit(opts.concurrency ?? 4);
  outcomes.push(...(await Promise.all(jobs.map((job) => limit(() => runStream(ctx, job))))));
  return outcomes;
}
