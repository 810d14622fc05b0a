import type Cloudflare from 'cloudflare';
import type { ResultInfo } from './envelope.js';
import { CloudflareRequestError } from './errors.js';
import { fetchEnvelope, type Query } from './fetch-envelope.js';

export interface ListPage {
  page: number;
  items: unknown[];
  resultInfo: ResultInfo | undefined;
  /** True when this page is the last one: the walk is complete after it. */
  last: boolean;
}

export interface PagedListOptions {
  stream: string;
  path: string;
  query?: Query;
  /** undefined: a single-page endpoint (no paging parameters sent). */
  perPage?: number;
  startPage?: number;
  malformedRetries: number;
  signal?: AbortSignal;
  /** v1 audit logs answer HTTP 400 for the page past the last when the count is a multiple of per_page. */
  pastEndIs400?: boolean;
}

/** Decide from result_info alone whether `page` was the last one, so no trailing empty page is fetched. */
export function isLastPage(page: number, perPage: number, itemCount: number, info: ResultInfo | undefined): boolean {
  if (itemCount === 0) return true;
  if (info?.total_pages !== undefined && info.total_pages > 0) return page >= info.total_pages;
  if (info?.total_count !== undefined) return page * perPage >= info.total_count;
  return itemCount < perPage;
}

const idsOf = (items: unknown[]) => items.map((i) => (i as { id?: unknown })?.id).join('\u0000');

/**
 * Walk a page-numbered listing. The next page is requested while the caller stores the
 * current one. A listing that serves the same page again (seen on /accounts with
 * account-owned tokens) stops with an error instead of looping.
 */
export async function* walkPagedList(api: Cloudflare, opts: PagedListOptions): AsyncGenerator<ListPage> {
  const fetchPage = async (page: number): Promise<ListPage | undefined> => {
    const query: Query = opts.perPage ? { ...opts.query, page, per_page: opts.perPage } : { ...opts.query };
    const site = { stream: opts.stream, path: opts.path, page };
    const pastEndOk = opts.pastEndIs400 && page > 1;
    const res = await fetchEnvelope(api, {
      site,
      query,
      malformedRetries: opts.malformedRetries,
      signal: opts.signal,
      acceptError: pastEndOk ? (status) => status === 400 : undefined,
    });
    if (res.kind === 'accepted-error') return undefined;
    const { result, result_info: info } = res.envelope;
    if (!Array.isArray(result)) throw new CloudflareRequestError(site, 'malformed', 200, 'result is not an array');
    if (opts.perPage && info?.page !== undefined && info.page !== page) {
      throw new CloudflareRequestError(site, 'repeated-page', 200, `asked for page ${page}, Cloudflare answered page ${info.page}; stopping instead of looping`);
    }
    const last = opts.perPage ? isLastPage(page, opts.perPage, result.length, info ?? undefined) : true;
    return { page, items: result, resultInfo: info ?? undefined, last };
  };

  let page = opts.startPage ?? 1;
  let pending: Promise<ListPage | undefined> | undefined = fetchPage(page);
  let previousIds: string | undefined;
  while (pending) {
    const current = await pending;
    pending = undefined;
    if (!current) return;
    const ids = idsOf(current.items);
    if (previousIds !== undefined && ids.length > 0 && ids === previousIds) {
      throw new CloudflareRequestError({ stream: opts.stream, path: opts.path, page }, 'repeated-page', 200, `page ${page} holds the same items as page ${page - 1}; stopping instead of looping`);
    }
    previousIds = ids;
    if (!current.last) {
      page += 1;
      pending = fetchPage(page);
      // The consumer may stop (error, abort) before awaiting the prefetch; never leave it unhandled.
      pending.catch(() => undefined);
    }
    yield current;
  }
}
