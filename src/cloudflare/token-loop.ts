import type Cloudflare from 'cloudflare';
import { CloudflareRequestError } from './errors.js';
import { fetchEnvelope, type Query } from './fetch-envelope.js';
import { listItems } from './page-loop.js';

export interface TokenPage {
  /** 1 for the first page, and so on (for messages and checkpoints). */
  seq: number;
  items: unknown[];
  /** result_info.total_size as this page saw it. */
  totalSize: number | undefined;
  nextToken: string | undefined;
}

export interface TokenListOptions {
  stream: string;
  credential?: string;
  path: string;
  query?: Query;
  /** page_size: 0–1000, Cloudflare's default is 10. */
  pageSize: number;
  malformedRetries: number;
  signal?: AbortSignal;
}

/**
 * Walk a page-token listing (organizations and their members and accounts): `page_token` from
 * result_info.next_page_token, whose absence marks the last page; the filters stay on every request.
 * The next page is requested while the caller stores the current one. A token handed back
 * twice stops with an error instead of looping.
 */
export async function* walkTokenList(api: Cloudflare, opts: TokenListOptions): AsyncGenerator<TokenPage> {
  const seen = new Set<string>();
  const fetchPage = async (seq: number, token: string | undefined): Promise<TokenPage> => {
    const site = { stream: opts.stream, path: opts.path, page: `#${seq}${token ? ' (page_token)' : ''}`, credential: opts.credential };
    const query: Query = { ...opts.query, page_size: opts.pageSize, ...(token ? { page_token: token } : {}) };
    const res = await fetchEnvelope(api, { site, query, malformedRetries: opts.malformedRetries, signal: opts.signal });
    if (res.kind !== 'ok') throw new CloudflareRequestError(site, 'bad-request', res.status, res.message, res.codes);
    const info = res.envelope.result_info;
    const items = listItems(site, res.envelope.result);
    const bad = info?.invalid?.find((f) => f.startsWith('next_page_token'));
    if (bad) throw new CloudflareRequestError(site, 'malformed', 200, `result_info.${bad} is not a page token`);
    const next = info?.next_page_token;
    if (next !== undefined && (seen.has(next) || next === token)) {
      throw new CloudflareRequestError(site, 'repeated-page', 200, 'the listing returned a page token it gave before; stopping instead of looping');
    }
    if (next !== undefined) seen.add(next);
    return { seq, items, totalSize: info?.total_size, nextToken: items.length > 0 ? next : undefined };
  };

  let seq = 1;
  let pending: Promise<TokenPage> | undefined = fetchPage(seq, undefined);
  while (pending) {
    const page: TokenPage = await pending;
    pending = undefined;
    if (page.nextToken) {
      seq += 1;
      pending = fetchPage(seq, page.nextToken);
      pending.catch(() => undefined);
    }
    yield page;
  }
}
