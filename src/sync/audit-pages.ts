import { walkCursorList } from '../cloudflare/cursor-loop.js';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import type { AuditSource } from './audit-entry.js';
import type { AuditWindow } from './audit-window.js';
import type { Walk } from './walk.js';

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
