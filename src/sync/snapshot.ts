import { and } from 'drizzle-orm';
import { fetchEnvelope } from '../cloudflare/fetch-envelope.js';
import type { Tx } from '../db/client.js';
import { type Confirmation, settleDeletions } from './deletions.js';
import type { SnapshotSpec } from './snapshot-spec.js';
import type { StreamJob, Walk } from './walk.js';
import { type ListingResult, listingAt, recordingFailure, writeListing } from './listings.js';
import { freshWalk, joinUp, pathOf, storePage, type WalkCheckpoint, walkListing } from './snapshot-walk.js';

export type { SnapshotSpec };

type SnapshotCheckpoint = { walk?: WalkCheckpoint; lastCompleteAt?: string } | null;

function resumable(w: Walk): WalkCheckpoint | undefined {
  const cp = (w.checkpoint as SnapshotCheckpoint)?.walk;
  if (!cp) return undefined;
  const age = w.now().getTime() - Date.parse(cp.startedAt);
  return age >= 0 && age <= w.config.sync.resumeMaxAge ? cp : undefined;
}

/**
 * One complete walk (resuming an interrupted one when it can, unless `resume` is false: a listing walked
 * inside another stream's walk), then walks again while its pages do not join up.
 */
export async function walkUntilJoined(w: Walk, spec: SnapshotSpec, resume = true): Promise<{ seen: Set<string>; joined: boolean; pages: number; why?: string }> {
  const resumeFrom = resume ? resumable(w) : undefined;
  if (resumeFrom) w.setResumedFromPage(resumeFrom.nextPage);
  let cp = resumeFrom ? await walkListing(w, spec, resumeFrom, true) : undefined;
  if (resumeFrom && !cp) w.setResumedFromPage(undefined);
  cp ??= (await walkListing(w, spec, freshWalk(w), false))!;
  // Everything seen in any walk of this run exists (or did a moment ago): never a deletion candidate.
  const seen = new Set(cp.seen);
  let check = joinUp(cp);
  for (let again = 0; !check.joined && again < w.config.sync.rewalkLimit; again++) {
    w.log.info({ why: check.why }, 'the pages of the listing did not join up; walking it again');
    w.counts.rewalks += 1;
    cp = (await walkListing(w, spec, freshWalk(w), false))!;
    cp.seen.forEach((id) => seen.add(id));
    check = joinUp(cp);
  }
  if (!check.joined) w.note(`the listing's pages did not join up after ${w.config.sync.rewalkLimit + 1} walks (${check.why}); nothing marked deleted this time`);
  return { seen, joined: check.joined, pages: cp.nextPage - 1, ...(check.why ? { why: check.why } : {}) };
}

export function confirmation(w: Walk, spec: SnapshotSpec, pages: number): Confirmation {
  if (spec.detailPath) return { by: 'detail' };
  if (!spec.perPage || pages <= 1 || spec.firstPageOnly?.(w)) return { by: 'single-answer' };
  return {
    by: 'second-walk',
    rewalk: async () => {
      const cp = (await walkListing(w, spec, freshWalk(w), false))!;
      return joinUp(cp).joined ? new Set(cp.seen) : undefined;
    },
  };
}

/** A full-snapshot inventory stream: page → upsert → checkpoint; deletions only after a complete walk proves them. */
export function snapshotJob(stream: string, spec: SnapshotSpec): StreamJob {
  return {
    stream,
    walk: (w) => (spec.listing ? recordingFailure(w, [spec.listing], () => walkSnapshot(w, spec), { forbiddenCompletes: spec.forbiddenCompletes === true }) : walkSnapshot(w, spec)),
  };
}

/** What a complete walk of `spec` writes to access_listings (nothing for a spec without a listing). */
const listed = (w: Walk, spec: SnapshotSpec, r: ListingResult) => async (tx: Tx) => {
  if (spec.listing) await writeListing(tx, listingAt(w), spec.listing, r);
};

async function walkSnapshot(w: Walk, spec: SnapshotSpec): Promise<void> {
  const stream = w.stream;
  if (spec.object) {
    const res = await fetchEnvelope(w.cf, { site: { stream, path: pathOf(w, spec), credential: w.credential.name }, malformedRetries: w.api.malformedRetries, signal: w.signal });
    await storePage(w, spec, res.kind === 'ok' && res.envelope.result ? [res.envelope.result] : [], freshWalk(w));
    await w.complete(async () => undefined, { lastCompleteAt: w.now().toISOString() });
    return;
  }
  const { seen, joined, pages, why } = await walkUntilJoined(w, spec);
  if (!joined) {
    await w.complete(listed(w, spec, { state: 'failed', reason: `the listing's pages did not join up (${why ?? 'unknown'})` }), { lastCompleteAt: w.now().toISOString() });
    return;
  }
  const view = spec.view?.(w, seen);
  const scoped: SnapshotSpec = view ? { ...spec, scope: (x) => and(spec.scope?.(x), view.scope)! } : spec;
  const settled = await settleDeletions(w, scoped, seen, confirmation(w, spec, pages));
  const result: ListingResult = view ? { state: 'partial', viewOf: view.viewOf, reason: `only ${view.viewOf}'s view of the listing` } : { state: 'complete' };
  await w.complete(async (tx) => { await settled.write(tx); await listed(w, spec, result)(tx); }, { lastCompleteAt: w.now().toISOString() }, settled.held);
}
