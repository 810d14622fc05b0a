import type Cloudflare from 'cloudflare';
import type { ResultInfo } from './envelope.js';
import { CloudflareRequestError, type RequestSite } from './errors.js';
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
  credential?: string;
  path: string;
  query?: Query;
  /** undefined: a single-page endpoint (no paging parameters sent). */
  perPage?: number;
  startPage?: number;
  /**
   * Ask for page 1 only and take it as the whole listing: /accounts with an account-owned token
   * answers the same page whatever page is asked (section 10), so there is nothing to loop over.
   */
  firstPageOnly?: boolean;
  malformedRetries: number;
  signal?: AbortSignal;
}

/** Decide from result_info alone whether `page` was the last one, so no trailing empty page is fetched. */
export function isLastPage(page: number, perPage: number, itemCount: number, info: ResultInfo | undefined): boolean {
  if (itemCount === 0) return true;
  if (info?.total_pages !== undefined && info.total_pages > 0) return page >= info.total_pages;
  if (info?.total_count !== undefined) return page * perPage >= info.total_count;
  return itemCount < perPage;
}

/** The items of a list answer: `result: null` is an empty list (the definitions allow it; /user/subscriptions sends it). */
export function listItems(site: RequestSite, result: unknown): unknown[] {
  if (result === null || result === undefined) return [];
  if (!Array.isArray(result)) throw new CloudflareRequestError(site, 'malformed', 200, `result is not a list (got ${typeof result})`);
  return result;
}

/** A page holding more entries than asked for is not a page of this listing: refused, never stored. */
export function refuseOverPage(site: RequestSite, count: number, asked: number | undefined, param: string): void {
  if (asked !== undefined && Number.isFinite(asked) && count > asked) {
    throw new CloudflareRequestError(site, 'too-large', 200, `the page holds ${count} entries, more than the ${param}=${asked} asked for`);
  }
}

const idsOf = (items: unknown[]) => items.map((i) => (i as { id?: unknown })?.id).join('\u0000');

/**
 * Walk a page-numbered listing. The next page is requested while the caller stores the
 * current one. A listing that serves the same page again stops with an error instead of looping.
 */
export async function* walkPagedList(api: Cloudflare, opts: PagedListOptions): AsyncGenerator<ListPage> {
  const fetchPage = async (page: number): Promise<ListPage> => {
    const query: Query = opts.perPage ? { ...opts.query, page, per_page: opts.perPage } : { ...opts.query };
    const site = { stream: opts.stream, path: opts.path, page, credential: opts.credential };
    const res = await fetchEnvelope(api, { site, query, malformedRetries: opts.malformedRetries, signal: opts.signal });
    if (res.kind !== 'ok') throw new CloudflareRequestError(site, 'bad-request', res.status, res.message, res.codes);
    const info = res.envelope.result_info;
    const items = listItems(site, res.envelope.result);
    refuseOverPage(site, items.length, opts.perPage, 'per_page');
    if (opts.perPage && !opts.firstPageOnly && info?.page !== undefined && info.page !== page) {
      throw new CloudflareRequestError(site, 'repeated-page', 200, `asked for page ${page}, Cloudflare answered page ${info.page}; stopping instead of looping`);
    }
    const last = opts.firstPageOnly || !opts.perPage || isLastPage(page, opts.perPage, items.length, info);
    return { page, items, resultInfo: info, last };
  };

  let page = opts.startPage ?? 1;
  let pending: Promise<ListPage> | undefined = fetchPage(page);
  let previousIds: string | undefined;
  while (pending) {
    const current = await pending;
    pending = undefined;
    const ids = idsOf(current.items);
    if (previousIds !== undefined && ids.length > 0 && ids === previousIds) {
      throw new CloudflareRequestError({ stream: opts.stream, path: opts.path, page, credential: opts.credential }, 'repeated-page', 200, `page ${page} holds the same items as page ${page - 1}; stopping instead of looping`);
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
