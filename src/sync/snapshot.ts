import type { SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { itemSchema } from '../cloudflare/envelope.js';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import { fetchEnvelope, type Query } from '../cloudflare/fetch-envelope.js';
import { type ListPage, walkPagedList } from '../cloudflare/page-loop.js';
import { markMissingDeleted, upsertSnapshotRows } from '../db/queries/snapshot.js';
import type { StreamJob, Walk } from './runner.js';

/** How one inventory listing maps onto one table. */
export interface SnapshotSpec {
  path: string;
  query?: Query;
  /** Page size for page-numbered listings; omit for single-page listings. */
  perPage?: number;
  /** The endpoint returns one object (GET /user), not a list. */
  object?: boolean;
  table: Parameters<typeof upsertSnapshotRows>[1] & PgTable;
  conflict: PgColumn[];
  idColumn: PgColumn;
  /** Which rows of the table this stream owns (for marking deletions). */
  scope?: SQL;
  toRow(item: Record<string, unknown> & { id: string }): Record<string, unknown>;
}

interface WalkCheckpoint {
  startedAt: string;
  nextPage: number;
  seen: string[];
  totalCount?: number;
}
type SnapshotCheckpoint = { walk?: WalkCheckpoint; lastCompleteAt?: string } | null;

function resumable(w: Walk): WalkCheckpoint | undefined {
  const cp = (w.checkpoint as SnapshotCheckpoint)?.walk;
  if (!cp) return undefined;
  const age = w.now().getTime() - Date.parse(cp.startedAt);
  return age >= 0 && age <= w.config.sync.resumeMaxAge ? cp : undefined;
}

function validItems(w: Walk, spec: SnapshotSpec, page: number | undefined, items: unknown[]) {
  return items.map((item, i) => {
    const parsed = itemSchema.safeParse(item);
    if (!parsed.success) {
      throw new CloudflareRequestError({ stream: w.stream, path: spec.path, page }, 'malformed', 200, `item ${i} has no id`);
    }
    return parsed.data;
  });
}

async function storePage(w: Walk, spec: SnapshotSpec, items: unknown[], cp: WalkCheckpoint, page?: number) {
  const valid = validItems(w, spec, page, items);
  const rows = valid.map((item) => spec.toRow(item));
  const next: WalkCheckpoint = { ...cp, nextPage: cp.nextPage + 1, seen: [...cp.seen, ...valid.map((i) => i.id)] };
  await w.commitPage(async (tx) => {
    w.counts.rowsUpserted += await upsertSnapshotRows(tx, spec.table, spec.conflict, rows, w.now(), w.config.sync.lastSeenResolution);
  }, { walk: next });
  w.counts.pages += 1;
  w.counts.rowsFetched += valid.length;
  return next;
}

const idOf = (item: unknown) => String((item as { id?: unknown })?.id);

/**
 * Page through one listing; returns undefined if a resumed walk found the listing changed under it.
 * A resumed walk re-reads the last page it stored: if that page no longer holds the same items,
 * items shifted across the resume point (one removed before it, one added after it leaves the
 * count unchanged) and resuming would miss some, then mark them deleted.
 */
async function walkList(w: Walk, spec: SnapshotSpec, start: WalkCheckpoint, resuming: boolean) {
  let cp = start;
  const overlap = resuming && cp.nextPage > 1 ? cp.nextPage - 1 : undefined;
  const pages = walkPagedList(w.cf, {
    stream: w.stream, path: spec.path, query: spec.query, perPage: spec.perPage, startPage: overlap ?? cp.nextPage,
    malformedRetries: w.api.malformedRetries, signal: w.signal,
  });
  for await (const page of pages as AsyncGenerator<ListPage>) {
    const total = page.resultInfo?.total_count;
    if (resuming && cp.totalCount !== undefined && total !== undefined && total !== cp.totalCount) {
      w.log.info({ before: cp.totalCount, now: total }, 'listing changed since the interrupted walk; starting over');
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
    cp = await storePage(w, spec, page.items, { ...cp, totalCount: total }, page.page);
  }
  return cp;
}

/** A full-snapshot inventory stream: page → upsert → checkpoint; deletions only after a complete walk. */
export function snapshotJob(stream: string, spec: SnapshotSpec): StreamJob {
  return {
    stream,
    async walk(w) {
      const fresh = (): WalkCheckpoint => ({ startedAt: w.now().toISOString(), nextPage: 1, seen: [] });
      let cp: WalkCheckpoint | undefined;
      if (spec.object) {
        const res = await fetchEnvelope(w.cf, { site: { stream, path: spec.path }, malformedRetries: w.api.malformedRetries, signal: w.signal });
        cp = await storePage(w, spec, res.kind === 'ok' ? [res.envelope.result] : [], fresh());
      } else {
        const resumeFrom = spec.perPage ? resumable(w) : undefined;
        if (resumeFrom) w.setResumedFromPage(resumeFrom.nextPage);
        cp = resumeFrom ? await walkList(w, spec, resumeFrom, true) : undefined;
        if (resumeFrom && !cp) w.setResumedFromPage(undefined);
        cp ??= await walkList(w, spec, fresh(), false);
      }
      const seen = cp!.seen;
      await w.complete(async (tx) => {
        w.counts.rowsMarkedDeleted += await markMissingDeleted(tx, spec.table, spec.idColumn, spec.scope, seen, w.now());
      }, { lastCompleteAt: w.now().toISOString() });
    },
  };
}
