import pRetry, { AbortError } from 'p-retry';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import { fetchEnvelope, type FetchResult, type Query } from '../cloudflare/fetch-envelope.js';
import { listItems, refuseOverPage } from '../cloudflare/page-loop.js';
import { type AuditSource, entryTimeOf } from './audit-entry.js';
import type { AuditPageSource, PageWalk } from './audit-pages.js';
import { type AuditWindow, placeTime } from './audit-window.js';

// v1 audit listings walked by time (keyset), never by page number: the argument for why this
// cannot skip an entry is docs/audit-completeness.md.

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
        const res = await fetchEnvelope(w.cf, { site, query, malformedRetries: w.api.malformedRetries, signal: w.signal, acceptError });
        if (res.kind === 'ok' && Array.isArray(res.envelope.result)) refuseOverPage(site, res.envelope.result.length, Number(query.per_page), 'per_page');
        return res;
      } catch (err) {
        // 5xx were retried by the SDK already; a 4xx answer (or 10001 on a 400) it does not retry is asked again here.
        if (err instanceof CloudflareRequestError && (err.kind === 'bad-request' || (err.kind === 'server' && (err.status ?? 0) < 500))) throw err;
        throw new AbortError(err as Error);
      }
    },
    { retries: 3, minTimeout: 500, maxTimeout: 4_000, signal: w.signal },
  );
}

/** Where a v1 walk is: the event time it asks from (inclusive), the ids stored at that time, an over-full instant being paged. */
export interface V1State {
  since: number;
  seenAt: Set<string>;
  instant?: { at: number; page: number } | undefined;
}

export function startState(window: AuditWindow): V1State {
  const n = window.next;
  // A checkpoint from the page-numbered walk resumes by time from the last entry it stored: safe, re-reads are idempotent.
  const since = n.since ?? (n.page !== undefined ? window.lastTime : undefined) ?? window.since;
  return { since: Date.parse(since), seenAt: new Set(n.seenAt ?? []), instant: n.instant ? { at: Date.parse(n.instant.at), page: n.instant.page } : undefined };
}

export const toNext = (s: V1State): AuditWindow['next'] =>
  s.instant ? { since: iso(s.since), seenAt: [...s.seenAt], instant: { at: iso(s.instant.at), page: s.instant.page } } : { since: iso(s.since), seenAt: [...s.seenAt] };

/** How a page's entries are read: their event time, and whether a time lies inside the window. */
export interface Reading {
  perPage: number;
  timeOf: (item: unknown) => number | undefined;
  inWindow: (ms: number) => boolean;
}

const idsAt = (r: Reading, items: unknown[], at: number) => items.filter((i) => r.timeOf(i) === at).map(idOf);

/**
 * The next position after a page, or undefined when the window is exhausted (a short page).
 * A full page moves the position to its latest in-window time: every entry before that time was
 * in this page. A full page all at the position itself is an instant holding more entries than a
 * page: it is paged on its own, then the walk goes on just after it. Throws when a full page holds
 * no usable time (advancing would be a guess).
 */
export function advance(s: V1State, items: unknown[], r: Reading): V1State | undefined {
  if (s.instant) {
    if (items.length < r.perPage) return { since: s.instant.at + 1, seenAt: new Set() };
    return { since: s.since, seenAt: new Set([...s.seenAt, ...idsAt(r, items, s.instant.at)]), instant: { at: s.instant.at, page: s.instant.page + 1 } };
  }
  if (items.length < r.perPage) return undefined;
  const times = items.map(r.timeOf).filter((t): t is number => t !== undefined && r.inWindow(t));
  if (!times.length) throw new Error(`a full page of ${items.length} entries holds no usable event time inside the window; cannot advance without guessing`);
  // reduce, not Math.max(...times): a spread of 100k arguments overflows the call stack.
  const max = times.reduce((a, b) => (b > a ? b : a), -Infinity);
  if (max <= s.since) return { since: s.since, seenAt: new Set([...s.seenAt, ...idsAt(r, items, s.since)]), instant: { at: s.since, page: 1 } };
  return { since: max, seenAt: new Set(idsAt(r, items, max)) };
}

/** The entries of a page not stored before: those at the position (or of the instant) already seen come back, since is inclusive. */
export function freshOf(s: V1State, items: unknown[], r: Reading): unknown[] {
  const at = s.instant ? s.instant.at : s.since;
  return items.filter((i) => !(r.timeOf(i) === at && s.seenAt.has(idOf(i))));
}

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

/** One request for a position: a keyset ask (page 1 from `since` to the window's end), or a page of an over-full instant. */
async function fetchAt(w: PageWalk, path: string, s: V1State, before: number, perPage: number): Promise<{ items: unknown[]; label: string }> {
  if (!s.instant) {
    const label = `since ${iso(s.since)}`;
    const res = await v1Get(w, path, label, { since: iso(s.since), before: iso(before), direction: 'asc', per_page: perPage, page: 1 });
    return { items: res.kind === 'ok' ? listItems({ stream: w.stream, path }, res.envelope.result) : [], label };
  }
  const { at, page } = s.instant;
  const label = `instant ${iso(at)} page ${page}`;
  const query = { since: iso(at), before: iso(at + 1), direction: 'asc', per_page: perPage, page };
  // Code 1001 ("page out of range" in the simulator; Cloudflare's own code is unconfirmed) after a full page.
  const res = await v1Get(w, path, label, query, page > 1 ? (status, codes) => status === 400 && codes.includes(1001) : undefined);
  if (res.kind === 'ok') return { items: listItems({ stream: w.stream, path }, res.envelope.result), label };
  await provePastEnd(w, path, at, perPage, (page - 1) * perPage);
  return { items: [], label };
}

/**
 * v1 listings, walked by time: each request asks from the last stored event time (inclusive) to
 * the window's fixed end, ascending, page 1; entries ageing out of Cloudflare's retention at the
 * old end cannot shift what the walk has not read yet. The next request is sent while the caller
 * stores the current page.
 */
export const v1Pages = (path: string): AuditPageSource =>
  async function* (w, window, source: AuditSource) {
    const perPage = w.config.audit.pageSize;
    const before = Date.parse(window.before);
    const reading: Reading = { perPage, timeOf: (i) => entryTimeOf(source, i), inWindow: (t) => placeTime(window, w.now(), t) === 'in-window' };
    let state: V1State | undefined = startState(window);
    let pending: ReturnType<typeof fetchAt> | undefined = fetchAt(w, path, state, before, perPage);
    while (pending && state) {
      const { items, label } = await pending;
      let next: V1State | undefined;
      try {
        next = advance(state, items, reading);
      } catch (err) {
        throw new CloudflareRequestError({ stream: w.stream, path, page: label, credential: w.credential.name }, 'malformed', 200, (err as Error).message);
      }
      pending = next ? fetchAt(w, path, next, before, perPage) : undefined;
      pending?.catch(() => undefined);
      yield { items: freshOf(state, items, reading), position: label, next: next ? toNext(next) : undefined };
      state = next;
    }
  };
