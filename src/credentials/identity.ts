import type { Context } from '../context.js';
import { type CredentialRow, credentialRow, recordOwnToken, saveCredential } from '../db/queries/credentials.js';
import { type Detected, detectCredential } from './detect.js';
import { limitKeyOf } from './access.js';
import { secretKey } from './limiters.js';
import type { CredentialAccess, Identity } from './types.js';

/** A credential that cannot be used: verification failed. Its streams fail with this one message. */
export class CredentialError extends Error {
  override name = 'CredentialError';
  constructor(readonly credential: string, readonly status: string, message: string) {
    super(message);
  }
}

const date = (s: string | null) => (s ? new Date(s) : null);

/** Verify now (Cloudflare), record the result, keep the identity on the access for this process. */
export async function verifyCredential(ctx: Context, cred: CredentialAccess, opts: { fast?: boolean } = {}): Promise<Detected> {
  const now = ctx.now();
  // What an earlier verification learnt paces these requests already against the right budget.
  if (!cred.identity) {
    const row = await credentialRow(ctx.db, cred.name);
    cred.identity = row ? identityOf(row, cred) : undefined;
  }
  const keyBefore = limitKeyOf(cred);
  const d = await detectCredential(cred, { now, signal: ctx.signal, fast: opts.fast });
  const id = d.identity;
  await ctx.db.transaction(async (tx) => {
    await saveCredential(tx, {
      name: cred.name, fingerprint: secretKey(cred.config), kind: id?.kind ?? null, status: d.ok ? 'active' : d.status === 'inactive' ? (id?.status ?? 'inactive') : d.status,
      userId: id?.userId ?? null, userEmail: id?.userEmail ?? null, accountId: id?.accountId ?? null, tokenId: id?.tokenId ?? null,
      expiresOn: date(id?.expiresOn ?? null), notBefore: date(id?.notBefore ?? null), lastError: d.ok ? null : d.error,
      verify: id ? { id: id.tokenId, status: id.status, expires_on: id.expiresOn, not_before: id.notBefore } : null,
    }, now);
    if (id?.tokenId && (id.kind === 'user-token' || id.accountId)) {
      await recordOwnToken(tx, {
        id: id.tokenId, ownerType: id.kind === 'account-token' ? 'account' : 'user', accountId: id.accountId,
        userId: id.kind === 'account-token' ? null : (id.userId ?? `credential:${cred.name}`), status: id.status,
        expiresOn: date(id.expiresOn), notBefore: date(id.notBefore),
      }, now);
    }
  });
  cred.identity = d.ok ? id : undefined;
  if (d.ok && limitKeyOf(cred) !== keyBefore) await cred.carryBudget(keyBefore);
  return d;
}

function identityOf(row: CredentialRow, cred: CredentialAccess): Identity | undefined {
  if (row.fingerprint !== secretKey(cred.config)) return undefined;
  if (!row.kind || row.status !== 'active' || !row.lastVerifiedAt) return undefined;
  return {
    kind: row.kind, status: row.status, tokenId: row.tokenId, expiresOn: row.expiresOn?.toISOString() ?? null,
    notBefore: row.notBefore?.toISOString() ?? null, userId: row.userId, userEmail: row.userEmail, accountId: row.accountId,
    verifiedAt: row.lastVerifiedAt.toISOString(),
  };
}

/**
 * The credential's identity for a walk: this process's, or the database's when another process
 * verified it recently (daemon workers), else verified now. Throws CredentialError when it fails.
 */
export async function ensureIdentity(ctx: Context, cred: CredentialAccess): Promise<Identity> {
  const maxAge = ctx.config.sync.credentialVerifyInterval;
  const fresh = (i: Identity | undefined) => i !== undefined && ctx.now().getTime() - Date.parse(i.verifiedAt) <= maxAge;
  if (fresh(cred.identity)) return cred.identity!;
  const row = await credentialRow(ctx.db, cred.name);
  const stored = row ? identityOf(row, cred) : undefined;
  if (fresh(stored)) return (cred.identity = stored!);
  // Failed recently: do not ask Cloudflare again on every walk; the interval (or `run`'s preflight) retries it.
  if (row && row.fingerprint === secretKey(cred.config) && row.status !== 'active' && row.lastVerifiedAt && ctx.now().getTime() - row.lastVerifiedAt.getTime() <= maxAge) {
    throw new CredentialError(cred.name, row.status, row.lastError ?? `credential "${cred.name}" is ${row.status}`);
  }
  const d = await verifyCredential(ctx, cred);
  if (!d.ok) throw new CredentialError(cred.name, d.status, d.error);
  return d.identity;
}

export interface PreflightResult {
  usable: CredentialAccess[];
  failures: Array<{ credential: string; status: string; error: string }>;
  /** Nothing can work: every credential failed (a wrong base URL fails them all). */
  fatal: boolean;
}

/** `run` and `start`: verify every credential once, at once, quickly; one line per failure. */
export async function preflight(ctx: Context): Promise<PreflightResult> {
  const results = await Promise.all(ctx.credentials.map(async (c) => [c, await verifyCredential(ctx, c, { fast: true })] as const));
  const usable = results.filter(([, d]) => d.ok).map(([c]) => c);
  const failures = results.flatMap(([c, d]) => (d.ok ? [] : [{ credential: c.name, status: d.status, error: d.error }]));
  return { usable, failures, fatal: usable.length === 0 };
}
