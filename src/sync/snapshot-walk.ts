import { itemSchema } from '../cloudflare/envelope.js';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import { type ListPage, walkPagedList } from '../cloudflare/page-loop.js';
import { upsertSnapshotRows } from '../db/queries/snapshot.js';
import { storeVersions } from './history.js';
import type { Walk } from './walk.js';
import type { SnapshotSpec } from './snapshot-spec.js';

/** Progress of one walk of a listing, as checkpointed page by page. */
export interface WalkCheckpoint {
  startedAt: string;
  nextPage: number;
  seen: string[];
  /** result_info.total_count of every page so far (the listing's size as each page saw it). */
  totals?: number[];
  /** Older checkpoints kept only the last page's total. */
  totalCount?: number;
}

export const freshWalk = (w: Walk): WalkCheckpoint => ({ startedAt: w.now().toISOString(), nextPage: 1, seen: [], totals: [] });

export const pathOf = (w: Walk, spec: SnapshotSpec) => (typeof spec.path === 'function' ? spec.path(w) : spec.path);

function validItems(w: Walk, spec: SnapshotSpec, page: number | undefined, items: unknown[]) {
  return items.map((item, i) => {
    const parsed = itemSchema.safeParse(item);
    if (!parsed.success) {
      throw new CloudflareRequestError({ stream: w.stream, path: pathOf(w, spec), page }, 'malformed', 200, `item ${i} has no id`);
    }
    return parsed.data;
  });
}

/** Upsert one page's rows and checkpoint the walk past it, in one transaction. */
export async function storePage(w: Walk, spec: SnapshotSpec, items: unknown[], cp: WalkCheckpoint, page?: number, total?: number) {
  const valid = validItems(w, spec, page, items);
  // Items left out (an account not watched) still count as seen: the listing held them.
  const kept = valid.filter((item) => spec.keep?.(item, w) ?? true);
  const rows = kept.map((item) => spec.toRow(item, w));
  const next: WalkCheckpoint = {
    ...cp, nextPage: cp.nextPage + 1, seen: [...cp.seen, ...valid.map((i) => i.id)],
    totals: total === undefined ? (cp.totals ?? []) : [...(cp.totals ?? []), total],
  };
  await w.commitPage(async (tx) => {
    w.counts.rowsUpserted += await upsertSnapshotRows(tx, spec.table, spec.conflict, rows, w.now(), w.config.sync.lastSeenResolution);
    await storeVersions(tx, w, spec.history, kept.map((i) => i.id));
    await spec.alsoWrite?.(tx, kept.map((i) => i.id), w);
  }, { walk: next });
  w.counts.pages += 1;
  w.counts.rowsFetched += valid.length;
  return next;
}

const idOf = (item: unknown) => String((item as { id?: unknown })?.id);

/**
 * Page through one listing; returns undefined if a resumed walk found the listing changed under it.
 * A resumed walk re-reads the last page it stored: if that page no longer holds the same items,
 * items shifted across the resume point and resuming would miss some.
 */
export async function walkListing(w: Walk, spec: SnapshotSpec, start: WalkCheckpoint, resuming: boolean): Promise<WalkCheckpoint | undefined> {
  let cp = start;
  const overlap = resuming && cp.nextPage > 1 ? cp.nextPage - 1 : undefined;
  const pages = walkPagedList(w.cf, {
    stream: w.stream, credential: w.credential.name, path: pathOf(w, spec), query: spec.query, perPage: spec.perPage,
    firstPageOnly: spec.firstPageOnly?.(w), startPage: overlap ?? cp.nextPage, malformedRetries: w.api.malformedRetries, signal: w.signal,
  });
  const before = cp.totals?.at(-1) ?? cp.totalCount;
  for await (const raw of pages as AsyncGenerator<ListPage>) {
    const page = spec.mapItem ? { ...raw, items: raw.items.map((i) => spec.mapItem!(i as Record<string, unknown>)) } : raw;
    const total = page.resultInfo?.total_count;
    if (resuming && before !== undefined && total !== undefined && total !== before) {
      w.log.info({ before, now: total }, 'listing changed since the interrupted walk; starting over');
      return undefined;
    }
    if (page.page === overlap) {
      const ids = page.items.map(idOf);
      if (ids.length === 0 || ids.join('\n') !== cp.seen.slice(-ids.length).join('\n')) {
        w.log.info({ page: overlap }, 'items moved since the interrupted walk; starting over');
        return undefined;
      }
      continue;
    }
    cp = await storePage(w, spec, page.items, cp, page.page, total);
  }
  return cp;
}

/**
 * Whether a walk's pages provably join up: every page saw the same total, and the walk saw that
 * many distinct ids. A count alone is no proof that nothing shifted (one removed, one added keeps
 * it), which is why deletions are confirmed one by one as well (deletions.ts).
 */
export function joinUp(cp: WalkCheckpoint): { joined: boolean; why?: string } {
  const totals = cp.totals?.length ? cp.totals : cp.totalCount !== undefined ? [cp.totalCount] : [];
  const distinct = new Set(cp.seen).size;
  if (totals.some((t) => t !== totals[0])) return { joined: false, why: `the listing's total changed between pages (${[...new Set(totals)].join(' → ')})` };
  if (totals.length && distinct !== totals[0]) return { joined: false, why: `${distinct} distinct ids seen but the listing counts ${totals[0]}` };
  return { joined: true };
}
