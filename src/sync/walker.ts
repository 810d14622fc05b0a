import type { Context } from '../context.js';
import { accessKnown, liveAccessOf } from '../db/queries/account-access.js';
import { CredentialError, ensureIdentity } from '../credentials/identity.js';
import { knownKinds } from '../credentials/kinds.js';
import { byPreference } from '../credentials/preference.js';
import { canReachUser, type CredentialAccess, type Identity } from '../credentials/types.js';
import { and, eq } from 'drizzle-orm';
import { accessListings } from '../db/schema/index.js';
import { notApplicableReason, type StreamScope, USER_LEVEL_KINDS } from './catalog.js';
import { LISTING_OF_KIND, listingScope } from './listings.js';

export type WalkerChoice =
  | { ok: true; credential: CredentialAccess; identity: Identity }
  | { ok: false; status: 'not-applicable' | 'skipped' | 'failed'; reason: string };

/** Try candidates in order; the first that verifies walks. All failing: the first failure is the answer. */
async function firstUsable(ctx: Context, candidates: CredentialAccess[], none: string): Promise<WalkerChoice> {
  let failure: CredentialError | undefined;
  for (const c of candidates) {
    try {
      return { ok: true, credential: c, identity: await ensureIdentity(ctx, c) };
    } catch (err) {
      if (!(err instanceof CredentialError)) throw err;
      failure ??= err;
    }
  }
  if (failure) return { ok: false, status: 'failed', reason: failure.message };
  return { ok: false, status: 'skipped', reason: none };
}

/**
 * The credential that walks a stream: the one it is named after, the preferred credential that
 * reaches the account, or (for what is the same for everyone) the preferred user-level one.
 */
export async function chooseWalker(ctx: Context, scope: StreamScope): Promise<WalkerChoice> {
  const order = ctx.credentials.map((c) => c.name);
  if (scope.type === 'credential') {
    const c = ctx.credentials.find((x) => x.name === scope.credential);
    if (!c) return { ok: false, status: 'failed', reason: `no credential named "${scope.credential}" is configured` };
    const choice = await firstUsable(ctx, [c], '');
    if (choice.ok && USER_LEVEL_KINDS.includes(scope.kind) && !canReachUser(choice.identity.kind)) {
      return { ok: false, status: 'not-applicable', reason: notApplicableReason(scope.kind, c.name) };
    }
    return choice;
  }
  const kinds = await knownKinds(ctx);
  if (scope.type === 'account') {
    const reach = new Set((await liveAccessOf(ctx.db, scope.accountId)).map((r) => r.credential));
    // An account no walk has listed yet (named explicitly): any credential that may reach it is tried.
    const unknown = reach.size === 0 && !(await accessKnown(ctx.db, scope.accountId));
    const mayReach = (c: CredentialAccess) =>
      unknown ? kinds.get(c.name) !== 'account-token' || c.config.accounts.includes(scope.accountId) || c.identity?.accountId === scope.accountId : reach.has(c.name);
    const candidates = byPreference(ctx.credentials.filter(mayReach).map((c) => ({ c, name: c.name, kind: kinds.get(c.name) })), order);
    // A credential that was refused this listing (403) walks it only when no other can.
    const refused = await forbiddenFor(ctx, scope);
    const ordered = [...candidates.filter((x) => !refused.has(x.name)), ...candidates.filter((x) => refused.has(x.name))];
    return firstUsable(ctx, ordered.map((x) => x.c), `no configured credential reaches account ${scope.accountId}`);
  }
  // The catalog is the same for every user: any credential that can call /user, user tokens first.
  const userLevel = ctx.credentials.filter((c) => { const k = kinds.get(c.name); return k === undefined || canReachUser(k); });
  const candidates = byPreference(userLevel.map((c) => ({ c, name: c.name, kind: kinds.get(c.name) })), order).map((x) => x.c);
  const choice = await firstUsable(ctx, candidates, 'no credential can read /user endpoints');
  if (choice.ok && !canReachUser(choice.identity.kind)) {
    return firstUsable(ctx, candidates.filter((c) => c !== choice.credential && c.identity?.kind !== 'account-token'), 'no credential can read /user endpoints');
  }
  return choice;
}

/** Credentials whose last walk of this account's listing was refused (access_listings state forbidden). */
async function forbiddenFor(ctx: Context, scope: Extract<StreamScope, { type: 'account' }>): Promise<Set<string>> {
  const listing = LISTING_OF_KIND[scope.kind];
  if (!listing) return new Set();
  const rows = await ctx.db.select({ credential: accessListings.credential }).from(accessListings)
    .where(and(eq(accessListings.scope, listingScope(scope).scope), eq(accessListings.listing, listing), eq(accessListings.state, 'forbidden')));
  return new Set(rows.map((r) => r.credential).filter((c): c is string => c !== null));
}
