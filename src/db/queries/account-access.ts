import { and, eq, inArray, isNull, not, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { accountAccess } from '../schema/index.js';
import { seenAgainNeedsWrite } from './snapshot.js';

export type AccessRow = typeof accountAccess.$inferSelect;

/**
 * This credential reaches these accounts (again). A live row is rewritten only to refresh a
 * last_seen_at older than `lastSeenResolutionMs`, as snapshot rows are: every walk rewriting
 * every row would write one row per account per round for nothing.
 */
export async function recordAccess(tx: Tx, credential: string, accountIds: string[], now: Date, lastSeenResolutionMs: number): Promise<void> {
  if (!accountIds.length) return;
  await tx
    .insert(accountAccess)
    .values(accountIds.map((accountId) => ({ credential, accountId, firstSeenAt: now, lastSeenAt: now })))
    .onConflictDoUpdate({
      target: [accountAccess.credential, accountAccess.accountId],
      set: { lastSeenAt: now, deletedAt: null, deletedReason: null },
      setWhere: seenAgainNeedsWrite(accountAccess, now, lastSeenResolutionMs),
    });
}

/** Accounts this credential no longer reaches (its complete walk did not return them). */
export async function endAccess(tx: Tx, credential: string, keep: string[], now: Date, reason: string): Promise<string[]> {
  const conditions = [eq(accountAccess.credential, credential), isNull(accountAccess.deletedAt)];
  if (keep.length) conditions.push(not(inArray(accountAccess.accountId, keep)));
  const rows = await tx.update(accountAccess).set({ deletedAt: now, deletedReason: reason }).where(and(...conditions)).returning({ id: accountAccess.accountId });
  return rows.map((r) => r.id);
}

/** Access of credentials no longer configured ends: they walk nothing any more. */
export async function endAccessOfOthers(tx: Tx, configured: string[], now: Date): Promise<void> {
  const conditions = [isNull(accountAccess.deletedAt)];
  if (configured.length) conditions.push(not(inArray(accountAccess.credential, configured)));
  await tx.update(accountAccess).set({ deletedAt: now, deletedReason: 'credential no longer configured' }).where(and(...conditions));
}

export async function liveAccess(tx: Tx): Promise<AccessRow[]> {
  return tx.select().from(accountAccess).where(isNull(accountAccess.deletedAt)).orderBy(accountAccess.accountId, accountAccess.credential);
}

/**
 * The live access rows of one account: what a walk of it asks (per walk; reading every live row and
 * filtering in the process cost a round over N accounts N² rows).
 */
export async function liveAccessOf(tx: Tx, accountId: string): Promise<AccessRow[]> {
  return tx.select().from(accountAccess).where(and(eq(accountAccess.accountId, accountId), isNull(accountAccess.deletedAt))).orderBy(accountAccess.credential);
}

/** Serialises account reconciliation across processes for the rest of the transaction. */
export async function lockAccounts(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('flarewatch:accounts'))`);
}

/** Whether any credential ever reached this account (live or not). */
export async function accessKnown(tx: Tx, accountId: string): Promise<boolean> {
  const rows = await tx.select({ c: accountAccess.credential }).from(accountAccess).where(eq(accountAccess.accountId, accountId)).limit(1);
  return rows.length > 0;
}
