import type Cloudflare from 'cloudflare';
import { createApiClient, newTally } from '../cloudflare/client.js';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import { fetchEnvelope } from '../cloudflare/fetch-envelope.js';
import { listItems } from '../cloudflare/page-loop.js';
import { obj, str } from '../sync/fields.js';
import { safeText } from '../util/safe-text.js';
import type { CredentialAccess, CredentialKind, Identity } from './types.js';

export type Detected =
  | { ok: true; identity: Identity }
  | { ok: false; status: 'invalid' | 'unreachable' | 'inactive'; error: string; identity?: Identity | undefined };

export interface DetectOptions {
  now: Date;
  signal?: AbortSignal | undefined;
  /** Preflight: one retry and a short timeout, so a wrong base URL fails in seconds, not minutes. */
  fast?: boolean;
}

/** Prefixes of token values issued since 2026 (section 10); older values have none. */
export function kindFromPrefix(token: string): CredentialKind | undefined {
  if (token.startsWith('cfat_')) return 'account-token';
  if (token.startsWith('cfut_')) return 'user-token';
  if (token.startsWith('cfk_')) return 'global-key';
  return undefined;
}

interface Probe {
  cf: Cloudflare;
  cred: CredentialAccess;
  opts: DetectOptions;
}

async function get(p: Probe, path: string, query?: Record<string, number>) {
  const res = await fetchEnvelope(p.cf, {
    site: { stream: `credential:${p.cred.name}`, path, credential: p.cred.name }, query,
    malformedRetries: p.opts.fast ? 1 : p.cred.api.malformedRetries, signal: p.opts.signal,
  });
  if (res.kind !== 'ok') throw new Error('unreachable: no error is accepted here');
  return res.envelope.result;
}

/** A field Cloudflare answered that is printed (doctor, run, status): control characters shown, not obeyed. */
const shown = (v: unknown) => {
  const s = str(v);
  return s === null ? null : safeText(s);
};

const refused = (err: unknown, ...statuses: number[]) =>
  err instanceof CloudflareRequestError && err.status !== undefined && statuses.includes(err.status);

function tokenFields(result: unknown) {
  const r = obj(result);
  return { tokenId: str(r.id), status: shown(r.status) ?? 'active', expiresOn: str(r.expires_on), notBefore: str(r.not_before) };
}

/** /user for the user behind a token or key; null when the credential lacks User Details Read. */
async function whoAmI(p: Probe): Promise<{ userId: string | null; userEmail: string | null }> {
  try {
    const u = obj(await get(p, '/user'));
    return { userId: str(u.id), userEmail: shown(u.email) };
  } catch (err) {
    // Lacking User Details Read is a permission answer (code 10000); a refused credential (9103, 9109) is not.
    if (err instanceof CloudflareRequestError && err.kind === 'permission') return { userId: null, userEmail: null };
    throw err;
  }
}

/** The accounts an account-owned token may belong to: configured, else the one page /accounts gives it. */
async function candidateAccounts(p: Probe): Promise<string[]> {
  if (p.cred.config.accounts.length) return p.cred.config.accounts;
  const listed = listItems({ stream: `credential:${p.cred.name}`, path: '/accounts' }, await get(p, '/accounts', { page: 1, per_page: 50 }));
  return [...new Set(listed.map((a) => str(obj(a).id)).filter((id): id is string => id !== null))];
}

async function asAccountToken(p: Probe): Promise<Identity | undefined> {
  for (const accountId of await candidateAccounts(p)) {
    try {
      const t = tokenFields(await get(p, `/accounts/${accountId}/tokens/verify`));
      return { kind: 'account-token', ...t, userId: null, userEmail: null, accountId, verifiedAt: p.opts.now.toISOString() };
    } catch (err) {
      if (!refused(err, 401, 403, 404)) throw err;
    }
  }
  return undefined;
}

async function asUserToken(p: Probe): Promise<Identity | undefined> {
  let t;
  try {
    t = tokenFields(await get(p, '/user/tokens/verify'));
  } catch (err) {
    if (refused(err, 401)) return undefined;
    throw err;
  }
  return { kind: 'user-token', ...t, ...(await whoAmI(p)), accountId: null, verifiedAt: p.opts.now.toISOString() };
}

async function identify(p: Probe): Promise<Identity | undefined> {
  const c = p.cred.config;
  if (!c.apiToken) {
    const me = await whoAmI(p);
    if (!me.userId) return undefined;
    return { kind: 'global-key', status: 'active', tokenId: null, expiresOn: null, notBefore: null, ...me, accountId: null, verifiedAt: p.opts.now.toISOString() };
  }
  const hinted = kindFromPrefix(c.apiToken);
  if (hinted === 'account-token') return asAccountToken(p);
  if (hinted === 'user-token') return asUserToken(p);
  return (await asUserToken(p)) ?? (await asAccountToken(p));
}

function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}

/** What this credential is and whether it works, in a handful of requests, each paced by its limiter. */
export async function detectCredential(cred: CredentialAccess, opts: DetectOptions): Promise<Detected> {
  const access = opts.fast ? { ...cred.api, maxRetries: Math.min(cred.api.maxRetries, 1), timeoutMs: Math.min(cred.api.timeoutMs, 15_000) } : cred.api;
  const p: Probe = { cf: createApiClient(access, newTally()), cred, opts };
  try {
    const identity = await identify(p);
    if (!identity) {
      const what = cred.config.apiToken ? 'the token is neither a valid user token nor an account-owned token of its accounts' : 'the email and global API key are not accepted';
      return { ok: false, status: 'invalid', error: `credential "${cred.name}": ${what}` };
    }
    if (identity.status !== 'active') {
      const when = identity.expiresOn ? ` (expires_on ${identity.expiresOn})` : '';
      return { ok: false, status: 'inactive', identity, error: `credential "${cred.name}": its token is ${identity.status}${when}` };
    }
    return { ok: true, identity };
  } catch (err) {
    if (err instanceof CloudflareRequestError && err.kind === 'network') {
      return { ok: false, status: 'unreachable', error: `credential "${cred.name}": cannot reach ${hostOf(cred.api.baseUrl)} (CLOUDFLARE_BASE_URL): ${err.detail}` };
    }
    if (err instanceof CloudflareRequestError && err.kind === 'auth') {
      return { ok: false, status: 'invalid', error: `credential "${cred.name}": refused by Cloudflare (HTTP ${err.status}${err.codes.length ? `, code ${err.codes.join('/')}` : ''}): ${err.detail.split(' — ')[0]}` };
    }
    const message = err instanceof CloudflareRequestError ? err.message : (err as Error).message;
    return { ok: false, status: 'unreachable', error: `credential "${cred.name}": verification failed: ${message}` };
  }
}
