import { walkCursorList } from '../cloudflare/cursor-loop.js';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import { walkPagedList } from '../cloudflare/page-loop.js';
import type { AuditWindow } from './audit-window.js';
import type { Walk } from './runner.js';

export interface AuditPage {
  items: unknown[];
  /** Human-readable place of this page in the walk, for errors and the quarantine. */
  position: string;
  /** Where to continue after this page; undefined when the window is exhausted. */
  next: AuditWindow['next'] | undefined;
}

export type AuditPageSource = (w: Walk, window: AuditWindow) => AsyncGenerator<AuditPage>;

/** v1 listings: ascending, page-numbered, fixed window; a page past the end may answer 400. */
export const v1Pages = (path: string): AuditPageSource =>
  async function* (w, window) {
    const pages = walkPagedList(w.cf, {
      stream: w.stream,
      path,
      query: { since: window.since, before: window.before, direction: 'asc' },
      perPage: w.config.audit.pageSize,
      startPage: window.next.page ?? 1,
      pastEndIs400: true,
      malformedRetries: w.api.malformedRetries,
      signal: w.signal,
    });
    for await (const p of pages) yield { items: p.items, position: `page ${p.page}`, next: p.last ? undefined : { page: p.page + 1 } };
  };

/**
 * v2 listing: ascending, cursor-paged. A saved cursor the API no longer accepts restarts
 * the window from just before the last stored entry (re-reads are deduplicated on insert).
 */
export const v2Pages = (path: string): AuditPageSource =>
  async function* (w, window) {
    const walk = (since: string, startCursor?: string) =>
      walkCursorList(w.cf, {
        stream: w.stream,
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
        const stale = first && window.next.cursor && err instanceof CloudflareRequestError && err.kind === 'bad-request';
        if (!stale) throw err;
        const since = new Date(Date.parse(window.lastTime ?? window.since) - 1_000).toISOString();
        w.log.warn({ since }, 'saved cursor refused; restarting the window from the last stored entry');
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
