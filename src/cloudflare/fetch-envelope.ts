import Cloudflare, { APIError } from 'cloudflare';
import pRetry, { AbortError } from 'p-retry';
import { type Envelope, envelopeSchema, readResultInfo } from './envelope.js';
import { CloudflareRequestError, type FailureKind, type RequestSite } from './errors.js';
import { scrub } from '../log.js';
import { BodyTooLargeError, ResponseDeadlineError } from './bounded-fetch.js';
import { requiredPermission } from './permissions.js';

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface FetchOptions {
  site: RequestSite;
  query?: Query;
  /** Retries for a body that is not a Cloudflare envelope or was cut mid-way; transport retries are the SDK's. */
  malformedRetries: number;
  signal?: AbortSignal;
  /** Decide that an HTTP error is an answer, not a failure (the caller then proves what it means). */
  acceptError?: (status: number, codes: number[]) => boolean;
}

export type FetchResult =
  | { kind: 'ok'; envelope: Envelope; headers: Headers }
  | { kind: 'accepted-error'; status: number; codes: number[]; message: string };

// Tags dropped: an edge error page quoted as its words (title, heading, Ray ID), not as markup.
const snippet = (text: string) => text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 160);

// Codes Cloudflare answers for a credential it does not accept (HTTP 400 or 403):
// 6003/6111 malformed header, 9106 missing, 9103 unknown key, 9109 invalid or unusable token.
const AUTH_CODES = [6003, 6111, 9106, 9103, 9109];
// 10001 is "Internal server error" whatever the HTTP status: a server problem, retried, never an auth hint.
const SERVER_CODES = [10001];

function classify(status: number | undefined, codes: number[]): FailureKind {
  if (status === undefined) return 'network';
  if (SERVER_CODES.some((c) => codes.includes(c))) return 'server';
  if (AUTH_CODES.some((c) => codes.includes(c))) return 'auth';
  if (status === 401) return 'auth';
  if (status === 403) return 'permission';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  return 'bad-request';
}

/** The hint that matches the failure: what to add, what to check, or nothing (a server problem is not the operator's). */
function hintFor(kind: FailureKind, site: RequestSite, codes: number[]): string {
  if (kind === 'permission') {
    const needed = requiredPermission(site.path);
    return needed ? ` — the credential lacks permission for this endpoint (needs "${needed}")` : ' — permission denied';
  }
  if (kind !== 'auth') return '';
  if (codes.includes(9109) && site.path.startsWith('/user')) {
    return ` — ${site.credential ? `credential "${site.credential}"` : 'the credential'} cannot call /user endpoints (an account-owned token never can), or it is invalid`;
  }
  return ` — check ${site.credential ? `credential "${site.credential}"` : 'the credential'}: its token or key is wrong, expired or revoked`;
}

/** The cause chain's most telling code or message (ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET, ...). */
function causeOf(err: unknown): string | undefined {
  let reason: string | undefined;
  for (let c: unknown = err, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    const e = c as { code?: string; message?: string; errors?: Array<{ code?: string }> };
    reason = e.code ?? e.errors?.[0]?.code ?? (e.message && !['fetch failed', 'Connection error.'].includes(e.message) ? e.message : reason);
    if (e.code) break;
  }
  return reason;
}

function apiErrorToRequestError(err: APIError, site: RequestSite): CloudflareRequestError {
  if (err instanceof Cloudflare.APIConnectionError) {
    // The SDK says only "Connection error."; the cause says which (ECONNREFUSED, ECONNRESET, timeout).
    const reason = causeOf(err.cause);
    return new CloudflareRequestError(site, 'network', undefined, `${err.message}${reason ? ` (${reason})` : ''}`);
  }
  const codes = (err.errors ?? []).map((e) => e.code).filter((c): c is number => typeof c === 'number');
  const messages = (err.errors ?? []).map((e) => e.message).filter(Boolean);
  const kind = classify(err.status, codes);
  const detail = (messages.join('; ') || snippet(typeof err.error === 'string' ? err.error : err.message)) + hintFor(kind, site, codes);
  return new CloudflareRequestError(site, kind, err.status, detail, codes);
}

/** The bound (deadline, byte limit) that ended an attempt, wherever in the cause chain the SDK put it. */
function boundHit(err: unknown): ResponseDeadlineError | BodyTooLargeError | undefined {
  for (let c: unknown = err, depth = 0; c && depth < 6; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof ResponseDeadlineError || c instanceof BodyTooLargeError) return c;
  }
  return undefined;
}

/** The status of the answer whose body failed, when the headers had arrived (undefined: before them). */
const statusOf = (err: unknown) => (err instanceof Cloudflare.APIError ? err.status : 200);

/** A body that stopped before its end: undici's "terminated" (the socket closed mid-body). */
function isCutBody(err: unknown): boolean {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  return (e?.name === 'TypeError' && e.message === 'terminated') || e?.cause?.code === 'UND_ERR_SOCKET';
}

/** A server (or a proxy's error page) may echo the credential it was sent: never let it into an error. */
function withoutCredentials(err: CloudflareRequestError, api: Cloudflare): CloudflareRequestError {
  const secrets = [api.apiToken, api.apiKey].filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const detail = scrub(err.detail, secrets);
  if (detail === err.detail) return err;
  return new CloudflareRequestError({ stream: err.stream, path: err.path, page: err.page, credential: err.credential }, err.kind, err.status, detail, err.codes);
}

const issueText = (issues: Array<{ path: PropertyKey[]; message: string }>) =>
  issues.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; ');

async function attemptOnce(api: Cloudflare, opts: FetchOptions): Promise<FetchResult> {
  const { site } = opts;
  try {
    // The SDK adds an abort listener to the signal it is given and never removes it: a walk's one
    // signal would collect one per request (MaxListenersExceededWarning). Each request gets its own
    // signal that follows the walk's (AbortSignal.any does not listen on its sources).
    const signal = opts.signal ? AbortSignal.any([opts.signal]) : null;
    const { data, response } = await api
      .get<unknown>(site.path, { query: opts.query, signal })
      .withResponse();
    const parsed = envelopeSchema.safeParse(data);
    if (!parsed.success) {
      const shown = typeof data === 'string' ? `body is not JSON: "${snippet(data)}"` : `body is not a Cloudflare envelope (${issueText(parsed.error.issues)})`;
      throw new CloudflareRequestError(site, 'malformed', response.status, shown);
    }
    const p = parsed.data;
    const envelope: Envelope = { success: p.success, errors: p.errors, messages: p.messages, result: p.result, result_info: readResultInfo(p.result_info) };
    if (!envelope.success) {
      const codes = envelope.errors.map((e) => e.code).filter((c): c is number => typeof c === 'number');
      const msg = envelope.errors.map((e) => e.message).join('; ') || 'success: false';
      throw new CloudflareRequestError(site, classify(response.status >= 400 ? response.status : 400, codes), response.status, msg, codes);
    }
    return { kind: 'ok', envelope, headers: response.headers };
  } catch (err) {
    if (err instanceof CloudflareRequestError) throw err;
    if (err instanceof Cloudflare.APIUserAbortError) throw err;
    const bound = boundHit(err);
    if (bound) throw new CloudflareRequestError(site, bound instanceof BodyTooLargeError ? 'too-large' : 'deadline', statusOf(err), bound.message);
    if (err instanceof Cloudflare.APIError) {
      const mapped = apiErrorToRequestError(err, site);
      if (mapped.status !== undefined && opts.acceptError?.(mapped.status, mapped.codes)) {
        return { kind: 'accepted-error', status: mapped.status, codes: mapped.codes, message: mapped.detail };
      }
      throw mapped;
    }
    if (isCutBody(err)) throw new CloudflareRequestError(site, 'network', 200, `connection closed mid-body (${causeOf(err) ?? 'terminated'})`);
    // A JSON content type with a body that does not parse (truncated, garbage).
    if (err instanceof SyntaxError) throw new CloudflareRequestError(site, 'malformed', 200, `invalid JSON: ${err.message}`);
    throw new CloudflareRequestError(site, 'network', undefined, (err as Error).message ?? String(err));
  }
}

/** Failures a second attempt of the same request can fix that the SDK does not retry itself. */
const retriedHere = (err: CloudflareRequestError) => err.kind === 'malformed' || (err.kind === 'network' && err.status === 200);

/**
 * One GET, unwrapped and validated. A malformed body, or one cut mid-way, is retried here (the SDK
 * retries only failures before a response); anything else that retrying cannot fix stops at once.
 */
export async function fetchEnvelope(api: Cloudflare, opts: FetchOptions): Promise<FetchResult> {
  return pRetry(
    async () => {
      try {
        return await attemptOnce(api, opts);
      } catch (err) {
        const clean = err instanceof CloudflareRequestError ? withoutCredentials(err, api) : err;
        if (clean instanceof CloudflareRequestError && retriedHere(clean)) throw clean;
        throw new AbortError(clean as Error);
      }
    },
    { retries: opts.malformedRetries, minTimeout: 200, maxTimeout: 2_000, signal: opts.signal },
  );
}
