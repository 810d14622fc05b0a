import { safeText } from '../util/safe-text.js';

/** Where a request was made, so every error can say it. */
export interface RequestSite {
  stream: string;
  path: string;
  page?: number | string;
  /** The credential that made it (named in hints about authentication). */
  credential?: string;
}

export type FailureKind = 'auth' | 'permission' | 'not-found' | 'rate-limited' | 'server' | 'network' | 'malformed' | 'repeated-page' | 'bad-request' | 'incomplete'
  /** The whole response did not arrive within the request timeout (cloudflare.timeoutMs). */
  | 'deadline'
  /** The body was larger than cloudflare.maxBodyBytes, or a page held more entries than asked. */
  | 'too-large';

/**
 * A Cloudflare call that failed after the client's own retries. `retryable` tells the
 * queue whether trying again later can help (a 403 cannot; a 502 may).
 */
export class CloudflareRequestError extends Error {
  readonly stream: string;
  readonly path: string;
  readonly page: number | string | undefined;
  readonly credential: string | undefined;
  constructor(
    site: RequestSite,
    readonly kind: FailureKind,
    readonly status: number | undefined,
    detail: string,
    readonly codes: number[] = [],
  ) {
    // The boundary where Cloudflare's words enter our errors (and from there run, doctor, status, logs, the database).
    detail = safeText(detail);
    const where = `stream ${site.stream}: GET ${site.path}${site.page !== undefined ? ` page ${site.page}` : ''}`;
    const what = status ? `HTTP ${status}${kind === 'malformed' ? ', malformed body' : kind === 'deadline' || kind === 'too-large' ? `, ${kind}` : ''}` : kind;
    super(`${where} failed (${what}${codes.length ? `, Cloudflare code ${codes.join('/')}` : ''}): ${detail}`);
    this.name = 'CloudflareRequestError';
    this.stream = site.stream;
    this.path = site.path;
    this.page = site.page;
    this.credential = site.credential;
    this.detail = detail;
  }

  readonly detail: string;

  get retryable(): boolean {
    return !['auth', 'permission', 'not-found', 'bad-request', 'repeated-page'].includes(this.kind);
  }
}
