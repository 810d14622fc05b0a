import { walkTokenList } from '../cloudflare/token-loop.js';
import type { Confirmation } from './deletions.js';
import type { Walk } from './walk.js';
import type { SnapshotSpec } from './snapshot.js';
import { freshWalk, joinUp, pathOf, storePage, type WalkCheckpoint } from './snapshot-walk.js';

// Snapshot walks of page-token listings (organizations): the same proof of completeness as
// page-numbered ones (every page saw one total_size, that many distinct ids), walked again if not.

const PAGE_SIZE = 100;

/** One walk, page by page: each page's rows and checkpoint commit together. */
async function walkOnce(w: Walk, spec: SnapshotSpec): Promise<WalkCheckpoint> {
  let cp = freshWalk(w);
  const pages = walkTokenList(w.cf, { stream: w.stream, credential: w.credential.name, path: pathOf(w, spec), query: spec.query,
    pageSize: PAGE_SIZE, malformedRetries: w.api.malformedRetries, signal: w.signal });
  for await (const page of pages) {
    const items = spec.mapItem ? page.items.map((i) => spec.mapItem!(i as Record<string, unknown>)) : page.items;
    cp = await storePage(w, spec, items, cp, page.seq, page.totalSize);
  }
  return cp;
}

/** Walk until the pages join up (at most rewalkLimit more times). */
export async function walkTokenJoined(w: Walk, spec: SnapshotSpec): Promise<{ seen: Set<string>; joined: boolean; pages: number; why?: string }> {
  let cp = await walkOnce(w, spec);
  const seen = new Set(cp.seen);
  let check = joinUp(cp);
  for (let again = 0; !check.joined && again < w.config.sync.rewalkLimit; again++) {
    w.log.info({ why: check.why, path: pathOf(w, spec) }, 'the pages of the listing did not join up; walking it again');
    w.counts.rewalks += 1;
    cp = await walkOnce(w, spec);
    cp.seen.forEach((id) => seen.add(id));
    check = joinUp(cp);
  }
  if (!check.joined) w.note(`${pathOf(w, spec)}: the pages did not join up after ${w.config.sync.rewalkLimit + 1} walks (${check.why}); nothing marked deleted there`);
  return { seen, joined: check.joined, pages: cp.nextPage - 1, ...(check.why ? { why: check.why } : {}) };
}

/** How a token listing's deletions are proven: its detail endpoint, its one page, or a second walk. */
export function tokenConfirmation(w: Walk, spec: SnapshotSpec, pages: number): Confirmation {
  if (spec.detailPath) return { by: 'detail' };
  if (pages <= 1) return { by: 'single-answer' };
  return { by: 'second-walk', rewalk: async () => { const cp = await walkOnce(w, spec); return joinUp(cp).joined ? new Set(cp.seen) : undefined; } };
}
