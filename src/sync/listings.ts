import { sql } from 'drizzle-orm';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import type { Tx } from '../db/client.js';
import { accessListings, type LISTING_STATES } from '../db/schema/index.js';
import type { Walk } from './walk.js';

// access_listings: whether each listing an access picture is built from could be read, and whose
// view it is. Written by the walk that read (or failed to read) it, in the transaction that
// completes the walk; a failure is written on its own, since the walk's work is rolled back.

export type ListingState = (typeof LISTING_STATES)[number];
export interface ListingResult { state: ListingState; reason?: string | null; viewOf?: string }

/** The listing each stream kind writes (streams not listed here write none). */
export const LISTING_OF_KIND: Record<string, string> = {
  members: 'members', roles: 'roles', 'account-tokens': 'account-tokens', 'user-tokens': 'user-tokens',
  'user-groups': 'user-groups', 'resource-groups': 'resource-groups', 'iam-permission-groups': 'iam-permission-groups',
  zones: 'zones', organizations: 'organizations',
};

type ScopeLike = Walk['scope'];

export function listingScope(scope: ScopeLike): { scope: string; accountId: string | null } {
  if (scope.type === 'account') return { scope: `account:${scope.accountId}`, accountId: scope.accountId };
  if (scope.type === 'credential') return { scope: `credential:${scope.credential}`, accountId: null };
  return { scope: 'global', accountId: null };
}

/** Upsert one listing's row; complete_at moves only when the listing was read whole (for its view). */
export async function writeListing(tx: Tx, at: { scope: ScopeLike; credential: string | null; now: Date }, listing: string, r: ListingResult) {
  const { scope, accountId } = listingScope(at.scope);
  const completeAt = r.state === 'complete' || r.state === 'partial' ? at.now : null;
  await tx.insert(accessListings).values({
    scope, accountId, listing, state: r.state, reason: r.reason ?? null, credential: at.credential, viewOf: r.viewOf ?? 'account',
    checkedAt: at.now, completeAt,
  }).onConflictDoUpdate({
    target: [accessListings.scope, accessListings.listing],
    set: { state: r.state, reason: r.reason ?? null, credential: at.credential, viewOf: r.viewOf ?? 'account', checkedAt: at.now,
      completeAt: completeAt ? sql`${completeAt.toISOString()}::timestamptz` : sql`${accessListings.completeAt}` },
  });
}

export const listingAt = (w: Walk) => ({ scope: w.scope, credential: w.credential.name, now: w.now() });

/** What a failed walk proved about its listing: a 403 is `forbidden` (never read as empty), anything else `failed`. */
export function failureOf(err: unknown): ListingResult {
  if (err instanceof CloudflareRequestError && err.status === 403) {
    return { state: 'forbidden', reason: `HTTP 403: ${err.detail}${err.codes.length ? ` (code ${err.codes.join('/')})` : ''}` };
  }
  const message = err instanceof CloudflareRequestError ? `${err.status ? `HTTP ${err.status}` : err.kind}: ${err.detail}` : (err as Error)?.message ?? String(err);
  return { state: 'failed', reason: message.slice(0, 500) };
}

/**
 * Run a walk; if it throws, record what that proves about `listings`, then let the error go on to the runner.
 * With `forbiddenCompletes`, a 403 instead ends the walk as done (nothing deleted, a note): a permission the
 * credential lacks is a standing state that status and doctor report, not a failure to retry every round.
 */
export async function recordingFailure(w: Walk, listings: string[], walk: () => Promise<void>, opts: { forbiddenCompletes?: boolean } = {}): Promise<void> {
  try {
    await walk();
  } catch (err) {
    const result = failureOf(err);
    const write = async (tx: Tx) => { for (const l of listings) await writeListing(tx, listingAt(w), l, result); };
    if (result.state === 'forbidden' && opts.forbiddenCompletes) {
      w.note(`${listings.join(', ')} forbidden for credential "${w.credential.name}" (${result.reason}); nothing read, nothing marked deleted`);
      await w.complete(write, w.checkpoint);
      return;
    }
    await w.db.transaction(write).catch((dbErr: unknown) => w.log.error({ err: dbErr }, 'could not record the listing failure'));
    throw err;
  }
}
