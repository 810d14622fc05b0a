import { NotFoundError } from '../util/not-found.js';
import { writeFileSync } from 'node:fs';
import type { Context } from '../context.js';
import type { Db } from '../db/client.js';
import { decisionsOf, itemsOf, latestReview, listReviews, reviewById } from '../db/queries/reviews.js';
import type { Review } from '../db/schema/index.js';
import { attest, type AttestOptions } from '../review/attest.js';
import { loadEvidence, renderEvidence, type ReviewExportFormat } from '../review/export.js';
import { loadSigningKey, signDigest, signingKeyPath } from '../review/signing.js';
import { memberKindsText, oldestSuccess } from '../review/summary-rows.js';
import { startReview, type StartOptions } from '../review/start.js';
import { wrapLine } from '../util/table.js';
import { formatTable, isoOrEmpty, safeText } from './findings-format.js';

type Result = { output: string; exitCode: number };

/** The review asked for, or the latest one. */
export async function pickReview(db: Db, id: number | undefined, what: string): Promise<Review> {
  const r = id === undefined ? await latestReview(db) : await reviewById(db, id);
  if (r) return r;
  throw new NotFoundError(id === undefined ? `${what}: no review yet (npx flarewatch review start takes one)` : `${what}: no review ${id} (npx flarewatch review list shows them)`);
}

const scope = (r: Pick<Review, 'accounts'>) => (r.accounts ? `accounts ${r.accounts.join(', ')}` : 'all watched accounts');

export async function reviewStartCommand(ctx: Pick<Context, 'db' | 'config' | 'now'>, o: StartOptions): Promise<Result> {
  const s = await startReview(ctx, o);
  const stale = s.freshness.filter((f) => !f.last_success_at).map((f) => f.stream);
  const lines = [
    `review ${s.id} "${safeText(s.name)}" started ${isoOrEmpty(s.startedAt)} (${scope(s)})`,
    `frozen: ${s.members} members${s.members ? ` (${memberKindsText(s.memberKinds)})` : ''}, ${s.tokens} tokens, ${s.findings} open findings on them`,
    `data as fresh as: oldest stream success ${oldestSuccess(s)}`,
    ...(stale.length ? [`never synced successfully: ${stale.join(', ')} (npx flarewatch run first for a complete snapshot)`] : []),
    s.previousId ? `previous review of this scope: ${s.previousId} (npx flarewatch review diff shows what changed since)` : 'first review of this scope',
    // One command a line, each pasteable as printed; the decision needs a name and an item, so it is a comment.
    'next:',
    `  npx flarewatch review status ${s.id}`,
    `  # decide each item it lists: npx flarewatch review attest <item> --keep --by <you> --review ${s.id} (or --revoke)`,
  ];
  return { output: lines.join('\n'), exitCode: 0 };
}

export async function reviewListCommand(ctx: Pick<Context, 'db' | 'columns'>, json: boolean): Promise<Result> {
  const rows = await listReviews(ctx.db);
  if (json) return { output: JSON.stringify(rows, null, 2), exitCode: 0 };
  if (!rows.length) return { output: 'no review yet (npx flarewatch review start takes one)', exitCode: 0 };
  const table = rows.map((r) => [String(r.id), safeText(r.name), isoOrEmpty(r.started_at), r.started_by ?? '', scope(r), String(r.items), String(r.items - r.decided)]);
  return { output: formatTable(['id', 'name', 'started', 'by', 'scope', 'items', 'undecided'], table, { width: ctx.columns, flex: ['name', 'scope'] }), exitCode: 0 };
}

/** `review status`: the items still undecided (the decided ones count in the summary line). */
export async function reviewStatusCommand(ctx: Pick<Context, 'db' | 'columns'>, id: number | undefined, json: boolean): Promise<Result> {
  const r = await pickReview(ctx.db, id, 'review status');
  const [items, decisions] = await Promise.all([itemsOf(ctx.db, r.id), decisionsOf(ctx.db, r.id)]);
  const latest = new Map(decisions.map((d) => [d.itemKey, d.decision]));
  const open = items.filter((i) => !latest.has(i.itemKey));
  const keep = [...latest.values()].filter((d) => d === 'keep').length;
  const counts = { items: items.length, decided: latest.size, keep, revoke: latest.size - keep, undecided: open.length };
  if (json) {
    const undecided = open.map((i) => ({ key: i.itemKey, kind: i.kind, account_id: i.accountId, label: i.label }));
    return { output: JSON.stringify({ review: r.id, name: r.name, started_at: r.startedAt, ...counts, undecided_items: undecided }, null, 2), exitCode: 0 };
  }
  const head = wrapLine(`review ${r.id} "${safeText(r.name)}" (${isoOrEmpty(r.startedAt)}): ${counts.items} items, ${counts.decided} decided (${keep} keep, ${counts.revoke} revoke), ${counts.undecided} undecided`, ctx.columns);
  if (!open.length) return { output: `${head}\nevery item is decided; the evidence pack:\n  npx flarewatch review export --review ${r.id} --format html --output review-${r.id}.html`, exitCode: 0 };
  const table = open.map((i) => [i.itemKey, i.kind, i.accountId ?? '', safeText(i.label)]);
  return { output: `${head}\n\n${formatTable(['item', 'kind', 'account', 'label'], table, { width: ctx.columns, flex: ['label'] })}`, exitCode: 0 };
}

export async function reviewAttestCommand(ctx: Pick<Context, 'db' | 'now'>, id: number | undefined, refs: string[], o: AttestOptions): Promise<Result> {
  const r = await pickReview(ctx.db, id, 'review attest');
  const done = await attest(ctx, r.id, refs, o);
  const lines = done.map(({ item, superseded }) =>
    `${o.decision} ${item.itemKey} (${safeText(item.label)}) by ${safeText(o.by.trim())}` +
    (superseded ? `; supersedes ${superseded.decision} by ${safeText(superseded.decidedBy)} at ${isoOrEmpty(superseded.decidedAt)}` : ''));
  return { output: [`review ${r.id}:`, ...lines].join('\n'), exitCode: 0 };
}

/** `review export`: the evidence pack to stdout, or to a file (`--output`); a JSON pack is signed (review.signingKey). */
export async function reviewExportCommand(ctx: Pick<Context, 'db' | 'config'>, id: number | undefined, format: ReviewExportFormat, output?: string): Promise<Result> {
  const r = await pickReview(ctx.db, id, 'review export');
  const evidence = (await loadEvidence(ctx.db, r.id))!;
  if (format === 'json') evidence.signature = signDigest(evidence.digest, loadSigningKey(signingKeyPath(ctx.config)));
  const pack = renderEvidence(evidence, format);
  if (!output) return { output: pack.replace(/\n$/, ''), exitCode: 0 };
  writeFileSync(output, pack);
  return { output: `wrote review ${r.id} as ${format} to ${output}`, exitCode: 0 };
}
