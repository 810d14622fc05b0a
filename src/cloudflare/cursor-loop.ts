import type Cloudflare from 'cloudflare';
import { CloudflareRequestError } from './errors.js';
import { fetchEnvelope, type Query } from './fetch-envelope.js';
import { listItems, refuseOverPage } from './page-loop.js';

export interface CursorPage {
  items: unknown[];
  /** The cursor this page was requested with (undefined for the first). */
  cursor: string | undefined;
  /** The cursor for the next page; undefined when this page is the last. */
  nextCursor: string | undefined;
}

export interface CursorListOptions {
  stream: string;
  credential?: string;
  path: string;
  query: Query;
  startCursor?: string;
  malformedRetries: number;
  signal?: AbortSignal;
}

/**
 * Walk a cursor-paged listing (v2 audit logs). The spec puts the cursor in
 * result_info.cursor, the SDK reads result_info.cursors.after: accept both. The next
 * page is requested while the caller stores the current one.
 */
export async function* walkCursorList(api: Cloudflare, opts: CursorListOptions): AsyncGenerator<CursorPage> {
  let seq = 0;
  const fetchPage = async (cursor: string | undefined): Promise<CursorPage> => {
    seq += 1;
    const site = { stream: opts.stream, path: opts.path, page: cursor ? `#${seq} (cursor)` : `#${seq}`, credential: opts.credential };
    const res = await fetchEnvelope(api, {
      site,
      query: cursor ? { ...opts.query, cursor } : opts.query,
      malformedRetries: opts.malformedRetries,
      signal: opts.signal,
    });
    if (res.kind !== 'ok') throw new CloudflareRequestError(site, 'bad-request', res.status, res.message, res.codes);
    const info = res.envelope.result_info;
    const items = listItems(site, res.envelope.result);
    const limit = Number(opts.query.limit);
    refuseOverPage(site, items.length, Number.isFinite(limit) && limit > 0 ? limit : undefined, 'limit');
    // The cursor is the one field this walk cannot do without: an unusable one is an error, never "the end".
    const badCursor = info?.invalid?.find((f) => f.startsWith('cursor') || f.startsWith('cursors.after'));
    if (badCursor) throw new CloudflareRequestError(site, 'malformed', 200, `result_info.${badCursor} is not a cursor string`);
    const next = info?.cursors?.after || info?.cursor || undefined;
    if (next && next === cursor) {
      throw new CloudflareRequestError(site, 'repeated-page', 200, 'the listing returned the cursor it was given; stopping instead of looping');
    }
    return { items, cursor, nextCursor: items.length > 0 ? next : undefined };
  };

  let pending: Promise<CursorPage> | undefined = fetchPage(opts.startCursor);
  while (pending) {
    const page: CursorPage = await pending;
    pending = undefined;
    if (page.nextCursor) {
      pending = fetchPage(page.nextCursor);
      pending.catch(() => undefined);
    }
    yield page;
  }
}
