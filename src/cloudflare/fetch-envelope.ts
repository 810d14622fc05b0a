import Cloudflare, { APIError } from 'cloudflare';
import pRetry, { AbortError } from 'p-retry';
import { type Envelope, envelopeSchema } from './envelope.js';
import { CloudflareRequestError, type FailureKind, type RequestSite } from './errors.js';
import { scrub } from '../log.js';
import { requiredPermission } from './permissions.js';

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface FetchOptions {
  site: RequestSite;
  query?: Query;
  /** Retries for a body that is not a Cloudflare envelope; transport retries are the SDK's. */
  malformedRetries: number;
  signal?: AbortSignal;
  /** Decide that an HTTP error is not an error (v1 audit logs answer 400 past the last page). */
  acceptError?: (status: number, codes: number[]) => boolean;
}

export type FetchResult = { kind: 'ok'; envelope: Envelope; headers: Headers } | { kind: 'accepted-error'; status: number };

// Tags dropped: an edge error page quoted as its words (title, heading, Ray ID), not as markup.
const snippet = (text: string) => text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 160);

function classify(status: number | undefined): FailureKind {
  if (status === undefined) return 'network';
  if (status === 401) return 'auth';
  if (status === 403) return 'permission';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  return 'bad-request';
}

function apiErrorToRequestError(err: APIError, site: RequestSite): CloudflareRequestError {
  const codes = (err.errors ?? []).map((e) => e.code).filter((c): c is number => typeof c === 'number');
  const messages = (err.errors ?? []).map((e) => e.message).filter(Boolean);
  let kind = classify(err.status);
  // Cloudflare answers a bad or missing credential with 400 (codes 6003, 6111, 9106) or 403 (9103, 9109).
  if ([6003, 6111, 9106, 9103, 9109, 10001].some((c) => codes.includes(c))) kind = 'auth';
  let detail = messages.join('; ') || snippet(typeof err.error === 'string' ? err.error : err.message);
  if (kind === 'permission') {
    const needed = requiredPermission(site.path);
    detail += needed ? ` — the credential lacks permission for this endpoint (needs "${needed}")` : ' — permission denied';
  }
  if (kind === 'auth') detail += ' — check CLOUDFLARE_API_TOKEN (or CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY)';
  if (err instanceof Cloudflare.APIConnectionError) {
    // The SDK says only "Connection error."; the cause says which (ECONNREFUSED, ECONNRESET, timeout).
    let reason: string | undefined;
    for (let c: unknown = err.cause, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
      const e = c as { code?: string; message?: string; errors?: Array<{ code?: string }> };
      reason = e.code ?? e.errors?.[0]?.code ?? (e.message && e.message !== 'fetch failed' ? e.message : reason);
      if (e.code) break;
    }
    return new CloudflareRequestError(site, 'network', undefined, `${err.message}${reason ? ` (${reason})` : ''}`);
  }
  return new CloudflareRequestError(site, kind, err.status, detail, codes);
}

/** A server (or a proxy's error page) may echo the credential it was sent: never let it into an error. */
function withoutCredentials(err: CloudflareRequestError, api: Cloudflare): CloudflareRequestError {
  const secrets = [api.apiToken, api.apiKey].filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const detail = scrub(err.detail, secrets);
  if (detail === err.detail) return err;
  return new CloudflareRequestError({ stream: err.stream, path: err.path, page: err.page }, err.kind, err.status, detail, err.codes);
}

async function attempt(api: Cloudflare, opts: FetchOptions): Promise<FetchResult> {
  try {
    return await attemptOnce(api, opts);
  } catch (err) {
    throw err instanceof CloudflareRequestError ? withoutCredentials(err, api) : err;
  }
}

async function attemptOnce(api: Cloudflare, opts: FetchOptions): Promise<FetchResult> {
  const { site } = opts;
  try {
    const { data, response } = await api
      .get<unknown>(site.path, { query: opts.query, signal: opts.signal ?? null })
      .withResponse();
    const parsed = envelopeSchema.safeParse(data);
    if (!parsed.success) {
      const shown = typeof data === 'string' ? `body is not JSON: "${snippet(data)}"` : 'body is not a Cloudflare envelope';
      throw new CloudflareRequestError(site, 'malformed', response.status, shown);
    }
    if (!parsed.data.success) {
      const codes = parsed.data.errors.map((e) => e.code).filter((c): c is number => typeof c === 'number');
      const msg = parsed.data.errors.map((e) => e.message).join('; ') || 'success: false';
      throw new CloudflareRequestError(site, 'bad-request', response.status, msg, codes);
    }
    return { kind: 'ok', envelope: parsed.data, headers: response.headers };
  } catch (err) {
    if (err instanceof CloudflareRequestError) throw err;
    if (err instanceof Cloudflare.APIUserAbortError) throw err;
    if (err instanceof Cloudflare.APIError) {
      const mapped = apiErrorToRequestError(err, site);
      if (mapped.status !== undefined && opts.acceptError?.(mapped.status, mapped.codes)) {
        return { kind: 'accepted-error', status: mapped.status };
      }
      throw mapped;
    }
    // A JSON content type with a body that does not parse (truncated, garbage).
    if (err instanceof SyntaxError) throw new CloudflareRequestError(site, 'malformed', 200, `invalid JSON: ${err.message}`);
    throw new CloudflareRequestError(site, 'network', undefined, (err as Error).message ?? String(err));
  }
}

/**
 * One GET, unwrapped and validated. A malformed body is retried here (the SDK only
 * retries transport failures); anything else that retrying cannot fix stops at once.
 */
export async function fetchEnvelope(api: Cloudflare, opts: FetchOptions): Promise<FetchResult> {
  return pRetry(
    async () => {
      try {
        return await attempt(api, opts);
      } catch (err) {
        if (err instanceof CloudflareRequestError && err.kind === 'malformed') throw err;
        throw new AbortError(err as Error);
      }
    },
    { retries: opts.malformedRetries, minTimeout: 200, maxTimeout: 2_000, signal: opts.signal },
  );
}
