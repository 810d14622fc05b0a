import { and, inArray, isNull } from 'drizzle-orm';
import type { Context } from '../context.js';
import { freezeFindings, freezeMembers, freezeTokens, frozenMemberKinds, streamFreshness } from '../db/queries/review-snapshot.js';
import { insertReview, previousReviewId } from '../db/queries/reviews.js';
import { accounts as accountsTable } from '../db/schema/index.js';
import { loadRuleSet } from '../rules/engine.js';
import { didYouMean } from '../util/did-you-mean.js';
import { UsageError } from '../util/usage-error.js';

export interface StartOptions {
  accounts?: string[];
  name?: string;
  by?: string;
}

export interface Started {
  id: number;
  name: string;
  startedAt: Date;
  members: number;
  /** Members by status, 'organization' for organization members (summary-rows.ts describeMembers). */
  memberKinds: Map<string, number>;
  tokens: number;
  findings: number;
  previousId: number | null;
  /** The accounts reviewed, as checked (null: every watched account). */
  accounts: string[] | null;
  freshness: Awaited<ReturnType<typeof streamFreshness>>;
}

/** Account ids as given, checked against the live accounts (a typo would review nothing). */
async function scopeOf(ctx: Pick<Context, 'db'>, given: string[] | undefined): Promise<string[] | null> {
  if (!given?.length) return null;
  const wanted = [...new Set(given.map((a) => a.trim().toLowerCase()))].sort();
  const live = await ctx.db.select({ id: accountsTable.id }).from(accountsTable).where(and(isNull(accountsTable.deletedAt), inArray(accountsTable.id, wanted)));
  const missing = wanted.filter((a) => !live.some((l) => l.id === a));
  if (missing.length) {
    const all = (await ctx.db.select({ id: accountsTable.id }).from(accountsTable).where(isNull(accountsTable.deletedAt))).map((a) => a.id);
    throw new UsageError(`review start: no watched account ${missing.map((m) => `"${m}"${didYouMean(m, all)}`).join(', ')} (npx flarewatch status lists the accounts' streams)`);
  }
  return wanted;
}

/**
 * `flarewatch review start`: freeze everything a reviewer signs off (members, tokens, the open
 * findings on them, how fresh the data is) in one transaction. Nothing later changes it.
 */
export async function startReview(ctx: Pick<Context, 'db' | 'config' | 'now'>, opts: StartOptions): Promise<Started> {
  const scope = await scopeOf(ctx, opts.accounts);
  const startedAt = ctx.now();
  const name = opts.name?.trim() || `access review ${startedAt.toISOString().slice(0, 10)}`;
  const controls = Object.fromEntries(loadRuleSet(ctx.config).rules.map((r) => [r.id, r.controls ?? []]));
  return ctx.db.transaction(async (tx) => {
    const freshness = await streamFreshness(tx, scope);
    const previousId = await previousReviewId(tx, scope, startedAt);
    const id = await insertReview(tx, { name, accounts: scope, startedAt, startedBy: opts.by?.trim() || null, freshness, previousId });
    const members = await freezeMembers(tx, id, scope);
    const tokens = await freezeTokens(tx, id, scope);
    if (members + tokens === 0) throw new UsageError('review start: nothing to review (no members or tokens stored for this scope): run npx flarewatch run first');
    const findings = await freezeFindings(tx, id, scope, controls);
    const memberKinds = await frozenMemberKinds(tx, id);
    return { id, name, startedAt, members, memberKinds, tokens, findings, previousId, accounts: scope, freshness };
    // One snapshot of the database for every statement: a sync committing meanwhile is either
    // wholly in the review or not at all.
  }, { isolationLevel: 'repeatable read' });
}
