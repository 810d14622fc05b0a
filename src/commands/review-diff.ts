import { NotFoundError } from '../util/not-found.js';
import type { Context } from '../context.js';
import { sinceOf, type Since } from '../db/queries/review-since.js';
import { itemsOf, reviewById } from '../db/queries/reviews.js';
import { diffReviews, type DiffItem, type FieldChange } from '../review/diff.js';
import { UsageError } from '../util/usage-error.js';
import { isoOrEmpty, safeText } from './findings-format.js';
import { pickReview } from './review.js';

type Result = { output: string; exitCode: number };

const show = (v: unknown) => (Array.isArray(v) ? (v.length ? v.join(', ') : 'none') : v === null || v === undefined ? 'none' : String(v));

function changeText(c: FieldChange): string {
  if (c.field === 'access' && Array.isArray(c.before) && Array.isArray(c.after)) {
    // "now also DNS via group Platform Admins, policy 3"; "no longer Administrator via role".
    const plus = c.after.filter((x) => !(c.before as unknown[]).includes(x)).map((x) => `now also ${x}`);
    const minus = c.before.filter((x) => !(c.after as unknown[]).includes(x)).map((x) => `no longer ${x}`);
    return `access: ${[...plus, ...minus].join('; ')}`;
  }
  if (Array.isArray(c.before) && Array.isArray(c.after)) {
    const plus = c.after.filter((x) => !(c.before as unknown[]).includes(x)).map((x) => `+ ${x}`);
    const minus = c.before.filter((x) => !(c.after as unknown[]).includes(x)).map((x) => `− ${x}`);
    return `${c.field}: ${[...plus, ...minus].join('; ')}`;
  }
  return `${c.field}: ${show(c.before)} → ${show(c.after)}`;
}

const label = (i: DiffItem) => `${i.key} (${safeText(i.label)})`;
const when = (d: Date | null | undefined) => (d ? `since ${isoOrEmpty(d)}` : 'since: not in the history (scope or first sight)');

/**
 * `flarewatch review diff [--review N] [--against M]`: what was added, removed or changed between
 * review M (default: N's previous review of the same scope) and review N (default: the latest),
 * with since when, from the history tables.
 */
export async function reviewDiffCommand(ctx: Pick<Context, 'db'>, o: { review?: number; against?: number; json?: boolean }): Promise<Result> {
  const to = await pickReview(ctx.db, o.review, 'review diff');
  const againstId = o.against ?? to.previousId;
  if (againstId === null || againstId === undefined) {
    throw new UsageError(`review diff: review ${to.id} is the first of its scope; nothing to compare it with (--against <id> names another)`);
  }
  const from = await reviewById(ctx.db, againstId);
  if (!from) throw new NotFoundError(`review diff: no review ${againstId} (npx flarewatch review list shows them)`);
  const diff = diffReviews(await itemsOf(ctx.db, from.id), await itemsOf(ctx.db, to.id));
  const [a, b] = from.startedAt <= to.startedAt ? [from.startedAt, to.startedAt] : [to.startedAt, from.startedAt];
  const since = await sinceOf(ctx.db, [...diff.added, ...diff.removed, ...diff.changed].map((i) => i.key), a, b);
  const at = (k: string, f: keyof Since) => since.get(k)?.[f] ?? null;
  if (o.json) {
    const out = {
      from: { id: from.id, started_at: from.startedAt }, to: { id: to.id, started_at: to.startedAt },
      added: diff.added.map((i) => ({ ...i, since: at(i.key, 'appeared') })),
      removed: diff.removed.map((i) => ({ ...i, since: at(i.key, 'removed') })),
      changed: diff.changed.map((i) => ({ ...i, since: at(i.key, 'changed') })),
    };
    return { output: JSON.stringify(out, null, 2), exitCode: 0 };
  }
  const total = diff.added.length + diff.removed.length + diff.changed.length;
  const lines = [`review ${to.id} against review ${from.id} (${isoOrEmpty(from.startedAt)} → ${isoOrEmpty(to.startedAt)}): ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed`];
  if (!total) lines.push('no change of access between them');
  for (const i of diff.added) lines.push(`+ ${i.kind} ${label(i)}, ${when(at(i.key, 'appeared'))}`);
  for (const i of diff.removed) lines.push(`− ${i.kind} ${label(i)}, ${when(at(i.key, 'removed'))}`);
  for (const i of diff.changed) lines.push(`~ ${i.kind} ${label(i)}, ${when(at(i.key, 'changed'))}`, ...i.changes.map((c) => `    ${safeText(changeText(c))}`));
  return { output: lines.join('\n'), exitCode: 0 };
}
