// POST JSON to a sink. Success is a 2xx; what retrying may fix (408, 429, 5xx, network,
// timeout) is a RetryableSinkError; everything else is a PermanentSinkError. Messages name
// the sink and the host only: Slack and Teams webhook URLs carry their secret in the path
// and query, so neither ever reaches an error or a log line.
import { PermanentSinkError, type SinkContext } from './types.js';
import { scrub } from '../log.js';
import { retryAfterMs } from '../util/retry-after.js';
import { truncate } from './escape.js';
import { guardedFetch, PrivateAddressError } from './guarded-fetch.js';

/** A failure the delivery job should retry with backoff. */
export class RetryableSinkError extends Error {
  override name = 'RetryableSinkError';
  readonly retryable = true;
  constructor(
    message: string,
    readonly sink: string,
    readonly status?: number,
    /** From a Retry-After header, when the sink sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface PostOptions {
  /** Sink name for messages: `slack`, `webhook`, ... */
  sink: string;
  url: string;
  /** Already serialised, so a signature can cover exactly these bytes. */
  body: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Values to blank out of anything the sink answers before it goes into an error message. */
  secrets?: readonly string[];
}

export interface PostResult {
  status: number;
  body: string;
}

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

/** `host[:port]` of a URL, the only part of a sink URL that may be shown. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

/** Why fetch threw, without the URL: a timeout, a shutdown, or the socket error code. */
function networkReason(err: unknown, timedOut: boolean, aborted: boolean): string {
  if (timedOut) return 'timed out';
  if (aborted) return 'aborted';
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return code ?? 'network error';
}

export async function postJson(opts: PostOptions, ctx: SinkContext): Promise<PostResult> {
  const { sink, url } = opts;
  const host = hostOf(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PermanentSinkError(`${sink}: the configured URL is not valid`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new PermanentSinkError(`${sink}: the configured URL must be http(s), not ${parsed.protocol}`);
  }
  // fetch refuses such a URL on every attempt: retrying could never help. The user and password stay unsaid.
  if (parsed.username || parsed.password) {
    throw new PermanentSinkError(`${sink}: the configured URL for ${host} carries a user name or password (user:pass@), which is refused; give the sink's credentials in its own settings`);
  }
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
  const doFetch = ctx.refusePrivateAddresses ? guardedFetch : (ctx.fetch ?? fetch);
  let res: Response;
  try {
    res = await doFetch(parsed, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'flarewatch', ...opts.headers },
      body: opts.body,
      signal,
      redirect: 'manual',
    });
  } catch (err) {
    if (err instanceof PrivateAddressError) {
      throw new PermanentSinkError(`${sink}: ${host} resolves to ${err.address} (loopback, link-local or private), refused by alerts.refusePrivateAddresses`);
    }
    const reason = networkReason(err, timeout.aborted, ctx.signal?.aborted ?? false);
    throw new RetryableSinkError(`${sink}: request to ${host} failed (${reason})`, sink);
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    // The status decides; a body cut short adds nothing.
  }
  if (res.status >= 200 && res.status < 300) return { status: res.status, body: text };
  const urlParts = [url, parsed.pathname, parsed.search].filter((p) => p.length > 1);
  const said = truncate(scrub(text.replace(/\s+/g, ' ').trim(), [...urlParts, ...(opts.secrets ?? [])]), 200);
  const message = `${sink}: HTTP ${res.status} from ${host}${said ? `: ${said}` : ''}`;
  if (RETRYABLE(res.status)) {
    throw new RetryableSinkError(message, sink, res.status, retryAfterMs(res.headers.get('retry-after')));
  }
  throw new PermanentSinkError(message);
}
