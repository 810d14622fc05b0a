import { NotFoundError } from '../util/not-found.js';
import type { Context } from '../context.js';
import { decisionsOf, insertDecisions, itemsOf } from '../db/queries/reviews.js';
import type { ReviewItem } from '../db/schema/index.js';
import { safeText } from '../commands/findings-format.js';
import { UsageError } from '../util/usage-error.js';

export interface AttestOptions { decision: 'keep' | 'revoke'; by: string; note?: string }

/**
 * The item a reviewer means: its key (`token:<id>`, `member:<account>:<id>`), a token or member id,
 * or its label (email, token name) when that names one item only.
 */
export function resolveItem(items: ReviewItem[], ref: string): ReviewItem {
  const r = ref.trim();
  const exact = items.find((i) => i.itemKey === r || i.itemKey === `token:${r}`) ?? items.find((i) => i.kind === 'member' && i.itemKey.endsWith(`:${r}`));
  if (exact) return exact;
  const named = items.filter((i) => i.label.toLowerCase() === r.toLowerCase());
  if (named.length === 1) return named[0]!;
  if (named.length > 1) throw new UsageError(`review attest: "${safeText(r)}" names ${named.length} items; give the key: ${named.map((i) => i.itemKey).join(', ')}`);
  throw new NotFoundError(`review attest: no item "${safeText(r)}" in this review (npx flarewatch review status lists them with their keys)`);
}

/**
 * `flarewatch review attest`: one decision per item, appended (an earlier decision stays, the
 * latest is in force). All items are resolved before anything is written: a typo records nothing.
 */
export async function attest(ctx: Pick<Context, 'db' | 'now'>, reviewId: number, refs: string[], o: AttestOptions) {
  const by = o.by.trim();
  if (!by) throw new UsageError('review attest: --by names who decides (required)');
  if (!refs.length) throw new UsageError('review attest: name at least one item');
  return ctx.db.transaction(async (tx) => {
    const items = await itemsOf(tx, reviewId);
    const chosen = [...new Map(refs.map((r) => resolveItem(items, r)).map((i) => [i.itemKey, i])).values()];
    const before = await decisionsOf(tx, reviewId);
    const decidedAt = ctx.now();
    await insertDecisions(tx, chosen.map((i) => ({ reviewId, itemKey: i.itemKey, decision: o.decision, decidedBy: by, decidedAt, note: o.note?.trim() || null })));
    // Whose decision this one supersedes: the reviewer sees it replaced, not lost.
    const latest = new Map(before.map((d) => [d.itemKey, d]));
    return chosen.map((i) => ({ item: i, superseded: latest.get(i.itemKey) ?? null }));
  });
}
