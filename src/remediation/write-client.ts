import type { Config } from '../config.js';
import type { CredentialAccess } from '../credentials/types.js';
import { scrub } from '../log.js';

/**
 * The one place a write leaves flarewatch. It refuses unless remediation is enabled AND the
 * credential is marked `write: true`, and it sends nothing but PUT, DELETE and PATCH: reads go
 * through `readObject`, never through here. Both use the credential's paced fetch, so writes
 * share the per-credential rate limiter with reads.
 */

export type WriteMethod = 'PUT' | 'DELETE' | 'PATCH';
export const WRITE_METHODS: readonly WriteMethod[] = ['PUT', 'DELETE', 'PATCH'];

export interface WriteRequest { method: WriteMethod; path: string; body?: unknown }
/** What Cloudflare answered, as recorded: HTTP status and the body (a rolled secret never reaches it). */
export interface ApiAnswer { status: number; body: unknown }

export class WritesRefusedError extends Error {
  override name = 'WritesRefusedError';
}

export interface WriteClient {
  credential: string;
  send(req: WriteRequest): Promise<ApiAnswer>;
  /** A roll: the new secret goes to `deliver` only; the answer recorded says it was delivered. */
  roll(path: string, deliver: (secret: string) => Promise<void>): Promise<ApiAnswer>;
}

/** The credential that writes: the one named by remediation.credential, else the only one marked `write: true`. */
export function writeCredentialOf(config: Config, credentials: CredentialAccess[]): CredentialAccess | string {
  const named = config.remediation.credential;
  const marked = credentials.filter((c) => c.config.write === true);
  if (named) {
    const c = credentials.find((x) => x.name === named);
    if (!c) return `remediation.credential names "${named}", which is not in cloudflare.credentials`;
    return c.config.write === true ? c : `credential "${named}" is not marked write: true`;
  }
  if (marked.length === 1) return marked[0]!;
  if (marked.length === 0) return 'no credential is marked write: true (cloudflare.credentials[].write)';
  return `several credentials are marked write: true (${marked.map((c) => c.name).join(', ')}): name one in remediation.credential`;
}

/** Why writes are refused now, or undefined when they may be sent. */
export function writesRefused(config: Config, credentials: CredentialAccess[]): string | undefined {
  if (!config.remediation.enabled) return 'remediation is disabled (remediation.enabled: false); flarewatch sends no write';
  const c = writeCredentialOf(config, credentials);
  return typeof c === 'string' ? c : undefined;
}

function headersOf(c: CredentialAccess): Record<string, string> {
  const a = c.api;
  return a.apiToken ? { authorization: `Bearer ${a.apiToken}` } : { 'x-auth-email': a.email ?? '', 'x-auth-key': a.apiKey ?? '' };
}

async function answerOf(res: Response, secrets: string[]): Promise<ApiAnswer> {
  const text = scrub(await res.text(), secrets);
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: { text: text.slice(0, 500) } };
  }
}

const secretsOf = (c: CredentialAccess) => [c.api.apiToken, c.api.apiKey].filter((s): s is string => typeof s === 'string' && s.length >= 4);

export function openWriteClient(config: Config, credentials: CredentialAccess[]): WriteClient {
  const refused = writesRefused(config, credentials);
  if (refused) throw new WritesRefusedError(refused);
  const c = writeCredentialOf(config, credentials) as CredentialAccess;
  const http = c.api.fetch ?? fetch;
  const call = (method: WriteMethod, path: string, body: unknown) => {
    if (!WRITE_METHODS.includes(method)) throw new WritesRefusedError(`${method} is not a write; the write client sends only ${WRITE_METHODS.join(', ')}`);
    // Re-checked at every send: a configuration object changed at run time cannot slip a write through.
    const again = writesRefused(config, credentials);
    if (again) throw new WritesRefusedError(again);
    return http(`${c.api.baseUrl}${path}`, {
      method, headers: { ...headersOf(c), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(c.api.timeoutMs),
    });
  };
  return {
    credential: c.name,
    async send(req) {
      return answerOf(await call(req.method, req.path, req.body), secretsOf(c));
    },
    async roll(path, deliver) {
      const res = await call('PUT', path, {});
      const text = await res.text();
      let parsed: { success?: boolean; result?: unknown } | undefined;
      try { parsed = JSON.parse(text) as typeof parsed; } catch { parsed = undefined; }
      if (!res.ok || typeof parsed?.result !== 'string') return { status: res.status, body: { ...(parsed ?? {}), result: null } };
      await deliver(parsed.result);
      return { status: res.status, body: { ...parsed, result: '[new secret delivered to the configured destination]' } };
    },
  };
}

/** Cloudflare refused the credential the object (401/403): it cannot read it, so it cannot change it either. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
  constructor(readonly status: number, readonly path: string, detail: string) {
    super(`GET ${path} answered HTTP ${status}: ${detail}`);
  }
}

/** One GET through the credential's paced fetch: the object, or null when Cloudflare says 404. */
export async function readObject(c: CredentialAccess, path: string): Promise<{ status: number; result: Record<string, unknown> | null }> {
  const http = c.api.fetch ?? fetch;
  const res = await http(`${c.api.baseUrl}${path}`, { headers: headersOf(c), signal: AbortSignal.timeout(c.api.timeoutMs) });
  const answer = await answerOf(res, secretsOf(c));
  const body = answer.body as { success?: boolean; result?: unknown };
  if (res.status === 404) return { status: 404, result: null };
  if (res.status === 401 || res.status === 403) throw new UnreachableError(res.status, path, JSON.stringify(body).slice(0, 300));
  if (!res.ok || body.success === false || typeof body.result !== 'object' || body.result === null) {
    throw new Error(`GET ${path} answered HTTP ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  return { status: res.status, result: body.result as Record<string, unknown> };
}
