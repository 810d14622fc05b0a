import { createApiClient, newTally } from '../cloudflare/client.js';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import { fetchEnvelope } from '../cloudflare/fetch-envelope.js';
import { listItems } from '../cloudflare/page-loop.js';
import type { Context } from '../context.js';
import { detectCredential } from '../credentials/detect.js';
import { byPreference } from '../credentials/preference.js';
import { canReachUser, type CredentialAccess, type Identity } from '../credentials/types.js';
import { obj, str } from '../sync/fields.js';
import { accountProbes, type Probe, userProbes } from './endpoints.js';

export interface Check {
  ok: boolean;
  /** What was checked, e.g. `credential default` or `default: GET /user/tokens`. */
  what: string;
  detail: string;
}

function describe(id: Identity): string {
  const whose = id.kind === 'account-token' ? `account ${id.accountId}` : (id.userEmail ?? id.userId ?? 'user unknown (no User Details Read)');
  const token = id.tokenId ? `, token ${id.tokenId}` : '';
  const expiry = id.kind === 'global-key' ? '' : id.expiresOn ? `, expires ${id.expiresOn}` : ', never expires';
  return `${id.kind}${token}, ${id.status}${expiry}, ${whose}`;
}

async function probe(ctx: Context, c: CredentialAccess, p: Probe): Promise<Check> {
  const cf = createApiClient({ ...c.api, maxRetries: Math.min(c.api.maxRetries, 1) }, newTally());
  const what = `${c.name}: GET ${p.path} (${p.stream})`;
  try {
    await fetchEnvelope(cf, { site: { stream: p.stream, path: p.path, credential: c.name }, query: p.query, malformedRetries: 1, signal: ctx.signal });
    return { ok: true, what, detail: 'answered' };
  } catch (err) {
    if (!(err instanceof CloudflareRequestError)) return { ok: false, what, detail: (err as Error).message };
    return { ok: false, what, detail: `HTTP ${err.status ?? err.kind}${err.codes.length ? ` (code ${err.codes.join('/')})` : ''}: ${err.detail}` };
  }
}

const watched = (ctx: Context, c: CredentialAccess, id: string) => {
  const global = ctx.config.cloudflare.accounts.map((a) => a.toLowerCase());
  return (global.length === 0 || global.includes(id)) && (c.config.accounts.length === 0 || c.config.accounts.includes(id));
};

/** The accounts a credential reaches: configured for an account-owned token, else page 1 of /accounts (the probe of `accounts:<name>`). */
async function reach(ctx: Context, c: CredentialAccess, id: Identity): Promise<{ check?: Check; accounts: string[] }> {
  if (id.kind === 'account-token' && c.config.accounts.length) return { accounts: c.config.accounts };
  const p: Probe = { stream: `accounts:${c.name}`, path: '/accounts', query: { page: 1, per_page: 50 } };
  const check = await probe(ctx, c, p);
  if (!check.ok) return { check, accounts: [] };
  const cf = createApiClient(c.api, newTally());
  const res = await fetchEnvelope(cf, { site: { stream: p.stream, path: p.path, credential: c.name }, query: p.query, malformedRetries: 1 });
  const items = res.kind === 'ok' ? listItems({ stream: p.stream, path: p.path }, res.envelope.result) : [];
  const ids = items.map((a) => str(obj(a).id)).filter((x): x is string => x !== null).map((x) => x.toLowerCase());
  return { check: { ...check, detail: `${ids.length} account(s)` }, accounts: ids.filter((a) => watched(ctx, c, a)) };
}

/**
 * Each credential: its kind and verify result, then one request per stream endpoint it would walk
 * (its own user-level streams, and each account it is the preferred walker of).
 */
export async function credentialChecks(ctx: Context): Promise<Check[]> {
  const checks: Check[] = [];
  const usable: Array<{ c: CredentialAccess; id: Identity; accounts: string[] }> = [];
  for (const c of ctx.credentials) {
    const d = await detectCredential(c, { now: ctx.now(), signal: ctx.signal, fast: true });
    if (!d.ok) {
      checks.push({ ok: false, what: `credential ${c.name}`, detail: d.error.replace(`credential "${c.name}": `, '') });
      continue;
    }
    checks.push({ ok: true, what: `credential ${c.name}`, detail: describe(d.identity) });
    c.identity = d.identity;
    const r = await reach(ctx, c, d.identity);
    if (r.check) checks.push(r.check);
    usable.push({ c, id: d.identity, accounts: r.accounts });
    if (canReachUser(d.identity.kind)) for (const p of userProbes(c.name, ctx.now())) checks.push(await probe(ctx, c, p));
  }
  const order = ctx.credentials.map((c) => c.name);
  const accounts = [...new Set(usable.flatMap((u) => u.accounts))].sort();
  for (const account of accounts) {
    const candidates = usable.filter((u) => u.accounts.includes(account)).map((u) => ({ ...u, name: u.c.name, kind: u.id.kind }));
    const walker = byPreference(candidates, order)[0]!;
    for (const p of accountProbes(account, ctx.now())) checks.push(await probe(ctx, walker.c, p));
  }
  return checks;
}
