import pRetry, { AbortError } from 'p-retry';
import { walkCursorList } from '../cloudflare/cursor-loop.js';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import { fetchEnvelope, type FetchResult, type Query } from '../cloudflare/fetch-envelope.js';
import { listItems } from '../cloudflare/page-loop.js';
import { type AuditSource, entryTimeOf } from './audit-entry.js';
import { type AuditWindow, placeTime } from './audit-window.js';
import type { Walk } from './runner.js';

export interface AuditPage {
  items: unknown[];
  /** Human-readable place of this page in the walk, for errors and the quarantine. */
  position: string;
  /** Where to continue after this page; undefined when the window is exhausted. */
  next: AuditWindow['next'] | undefined;
}

/** What reading pages needs of a walk: `audit verify` reads them outside one, with the same code. */
export type PageWalk = Pick<Walk, 'cf' | 'api' | 'config' | 'stream' | 'credential' | 'log' | 'signal' | 'now'>;

export type AuditPageSource = (w: PageWalk, window: AuditWindow, source: AuditSource) => AsyncGenerator<AuditPage>;

const idOf = (item: unknown) => String((item as { id?: unknown })?.id);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One v1 request. A stray error (a 400 from a proxy, Cloudflare's 10001) is asked again with
 * backoff, then fails the walk without advancing; `acceptError` lets the caller see a 400 it
 * will then prove (the answer past the last page of an instant).
 */
async function v1Get(w: PageWalk, path: string, page: string, query: Query, acceptError?: (s: number, c: number[]) => boolean): Promise<FetchResult> {
  const site = { stream: w.stream, path, page, credential: w.credential.name };
  return pRetry(
    async () => {
      try {
        return await fetchEnvelope(w.cf, { site, query, malformedRetries: w.api.malformedRetries, signal: w.signal, acceptError });
      } catch (err) {
        // 5xx were retried by the SDK already; a 4xx answer (or 10001 on a 400) it does not retry is asked again here.
        if (err instanceof CloudflareRequestError && (err.kind === 'bad-request' || (err.kind === 'server' && (err.status ?? 0) < 500))) throw err;
        throw new AbortError(err as Error);
      }
    },
    { retries: 3, minTimeout: 500, maxTimeout: 4_000, signal: w.signal },
  );
}

interface V1State {
  since: number;
  seenAt: Set<string>;
  instant?: { at: number; page: number } | undefined;
}

function startState(window: AuditWindow): V1State {
  const n = window.next;
  // A checkpoint from the page-numbered walk resumes by time from the last entry it stored: safe, re-reads are idempotent.
  const since = n.since ?? (n.page !== undefined ? window.lastTime : undefined) ?? window.since;
  return { since: Date.parse(since), seenAt: new Set(n.seenAt ?? []), instant: n.instant ? { at: Date.parse(n.instant.at), page: n.instant.page } : undefined };
}

const toNext = (s: V1State): AuditWindow['next'] =>
  s.instant ? { since: iso(s.since), seenAt: [...s.seenAt], instant: { at: iso(s.instant.at), page: s.instant.page } } : { since: iso(s.since), seenAt: [...s.seenAt] };

/**
 * Past the last page of an instant, v1 answers 400 when the count is a multiple of the page size.
 * Never taken on trust: the instant's size is checked with one request at another page size,
 * whose last page is short exactly when the instant holds `seen` entries. A wrong guess costs
 * that request (and, if the sizes disagree, a failed walk retried later), never an entry.
 */
async function provePastEnd(w: PageWalk, path: string, at: number, perPage: number, seen: number): Promise<void> {
  const size = [perPage - 1, perPage - 2].find((s) => s >= 1 && seen % s !== 0);
  const where = `instant ${iso(at)}`;
  if (size) {
    const page = Math.ceil(seen / size);
    const res = await v1Get(w, path, `${where} check page ${page}×${size}`, { since: iso(at), before: iso(at + 1), direction: 'asc', per_page: size, page });
    const got = res.kind === 'ok' ? listItems({ stream: w.stream, path }, res.envelope.result).length : -1;
    if (got === seen - (page - 1) * size) return;
  }
  throw new CloudflareRequestError({ stream: w.stream, path, page: where, credential: w.credential.name }, 'incomplete', 400,
    `HTTP 400 after ${seen} entries in one instant, and a check at another page size did not prove that was the end; nothing past ${iso(at)} is taken as complete`);
}

/**
 * v1 listings, walked by time, not by page number (docs/audit-completeness.md): each request asks
 * from the last stored event time (inclusive) to the window's fixed end, ascending, page 1. Entries
 * ageing out of Cloudflare's retention at the old end cannot shift what the walk has not read yet.
 * An instant holding more entries than a page is paged through on its own [t, t+1ms) window.
 */
export const v1Pages = (path: string): AuditPageSource =>
  async function* (w, window, source) {
    const perPage = w.config.audit.pageSize;
    const before = Date.parse(window.before);
    const fetchFor = async (s: V1State): Promise<{ items: unknown[]; pastEnd: boolean; label: string }> => {
      if (!s.instant) {
        const label = `since ${iso(s.since)}`;
        const res = await v1Get(w, path, label, { since: iso(s.since), before: iso(before), direction: 'asc', per_page: perPage, page: 1 });
        return { items: res.kind === 'ok' ? listItems({ stream: w.stream, path }, res.envelope.result) : [], pastEnd: false, label };
      }
      const { at, page } = s.instant;
      const label = `instant ${iso(at)} page ${page}`;
      const query = { since: iso(at), before: iso(at + 1), direction: 'asc', per_page: perPage, page };
      // Code 1001 ("page out of range" in the simulator; Cloudflare's own code is unconfirmed) after a full page.
      const res = await v1Get(w, path, label, query, page > 1 ? (status, codes) => status === 400 && codes.includes(1001) : undefined);
      if (res.kind === 'ok') return { items: listItems({ stream: w.stream, path }, res.envelope.result), pastEnd: false, label };
      await provePastEnd(w, path, at, perPage, (page - 1) * perPage);
      return { items: [], pastEnd: true, label };
    };

    const idsAt = (items: unknown[], at: number) => items.filter((i) => entryTimeOf(source, i) === at).map(idOf);
    const advance = (s: V1State, items: unknown[]): V1State | undefined => {
      if (s.instant) {
        if (items.length < perPage) return { since: s.instant.at + 1, seenAt: new Set() };
        return { since: s.since, seenAt: new Set([...s.seenAt, ...idsAt(items, s.instant.at)]), instant: { at: s.instant.at, page: s.instant.page + 1 } };
      }
      if (items.length < perPage) return undefined;
      const times = items.map((i) => entryTimeOf(source, i)).filter((t): t is number => t !== undefined && placeTime(window, w.now(), t) === 'in-window');
      if (!times.length) {
        throw new CloudflareRequestError({ stream: w.stream, path, page: `since ${iso(s.since)}`, credential: w.credential.name }, 'malformed', 200,
          `a full page of ${items.length} entries holds no usable event time inside the window; cannot advance without guessing`);
      }
      const max = Math.max(...times);
      // Every entry at the position itself: more entries share this instant than a page holds.
      if (max <= s.since) return { since: s.since, seenAt: new Set([...s.seenAt, ...idsAt(items, s.since)]), instant: { at: s.since, page: 1 } };
      return { since: max, seenAt: new Set(idsAt(items, max)) };
    };

    let state: V1State | undefined = startState(window);
    let pending: ReturnType<typeof fetchFor> | undefined = fetchFor(state);
    while (pending && state) {
      const { items, label } = await pending;
      const next: V1State | undefined = advance(state, items);
      pending = next ? fetchFor(next) : undefined;
      pending?.catch(() => undefined);
      // Entries at the position (or of the instant) that earlier pages already stored come back: not new.
      const at = state.instant ? state.instant.at : state.since;
      const seen = state.seenAt;
      const fresh = items.filter((i) => !(entryTimeOf(source, i) === at && seen.has(idOf(i))));
      yield { items: fresh, position: label, next: next ? toNext(next) : undefined };
      state = next;
    }
  };

/** A saved cursor Cloudflare no longer takes: refused (400, 404, 410) or failing (5xx after retries). */
const cursorRefused = (err: unknown) =>
  err instanceof CloudflareRequestError && (['bad-request', 'not-found', 'server', 'malformed'].includes(err.kind) || err.status === 410);

/**
 * v2 listing: ascending, cursor-paged. A saved cursor the API no longer takes restarts the
 * window from the last stored entry (re-reads are deduplicated on insert).
 */
export const v2Pages = (path: string): AuditPageSource =>
  async function* (w, window) {
    const walk = (since: string, startCursor?: string) =>
      walkCursorList(w.cf, {
        stream: w.stream,
        credential: w.credential.name,
        path,
        query: { since, before: window.before, direction: 'asc', limit: w.config.audit.pageSize },
        startCursor,
        malformedRetries: w.api.malformedRetries,
        signal: w.signal,
      });
    let pages = walk(window.since, window.next.cursor);
    let first = true;
    while (true) {
      let result: IteratorResult<Awaited<ReturnType<typeof pages.next>> extends IteratorResult<infer T> ? T : never>;
      try {
        result = await pages.next();
      } catch (err) {
        if (!(first && window.next.cursor && cursorRefused(err))) throw err;
        const since = new Date(Date.parse(window.lastTime ?? window.since) - 1_000).toISOString();
        w.log.warn({ since, error: (err as Error).message }, 'saved cursor refused; restarting the window from the last stored entry');
        pages = walk(since);
        first = false;
        continue;
      }
      first = false;
      if (result.done) return;
      const p = result.value;
      yield { items: p.items, position: p.cursor ? `cursor ${p.cursor.slice(0, 16)}…` : 'first page', next: p.nextCursor ? { cursor: p.nextCursor } : undefined };
    }
  };
