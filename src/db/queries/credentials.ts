import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { apiTokens, credentials } from '../schema/index.js';

export type CredentialRow = typeof credentials.$inferSelect;

export interface CredentialRecord {
  name: string;
  fingerprint: string;
  kind: CredentialRow['kind'];
  status: string;
  userId: string | null;
  userEmail: string | null;
  accountId: string | null;
  tokenId: string | null;
  expiresOn: Date | null;
  notBefore: Date | null;
  lastError: string | null;
  verify: Record<string, unknown> | null;
}

/** Record a verification; a failed one keeps what an earlier success learnt (kind, user, token). */
export async function saveCredential(tx: Tx, r: CredentialRecord, now: Date): Promise<void> {
  const keep = (col: string) => sql.raw(`coalesce(excluded."${col}", "credentials"."${col}")`);
  await tx
    .insert(credentials)
    .values({ ...r, lastVerifiedAt: now, firstSeenAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: credentials.name,
      set: {
        kind: keep('kind'), fingerprint: r.fingerprint, status: r.status, userId: keep('user_id'), userEmail: keep('user_email'), accountId: keep('account_id'),
        tokenId: keep('token_id'), expiresOn: keep('expires_on'), notBefore: keep('not_before'), verify: keep('verify'),
        lastError: r.lastError, lastVerifiedAt: now, updatedAt: now,
      },
    });
}

export async function credentialRows(tx: Tx): Promise<CredentialRow[]> {
  return tx.select().from(credentials).orderBy(credentials.name);
}

export async function credentialRow(tx: Tx, name: string): Promise<CredentialRow | undefined> {
  const [row] = await tx.select().from(credentials).where(eq(credentials.name, name));
  return row;
}

/**
 * The credential's own token is inventoried like any other even when the credential cannot list
 * tokens: a row from the verify answer, only where the listing has not stored the real one.
 */
export async function recordOwnToken(
  tx: Tx,
  t: { id: string; ownerType: 'user' | 'account'; accountId: string | null; userId: string | null; status: string; expiresOn: Date | null; notBefore: Date | null },
  now: Date,
): Promise<void> {
  const raw = { id: t.id, status: t.status, expires_on: t.expiresOn?.toISOString(), not_before: t.notBefore?.toISOString(), flarewatch_source: 'tokens/verify' };
  await tx
    .insert(apiTokens)
    .values({ ...t, policies: [], raw, firstSeenAt: now, lastSeenAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: apiTokens.id,
      set: { status: t.status, expiresOn: t.expiresOn, notBefore: t.notBefore, raw, lastSeenAt: now, updatedAt: now },
      // A row a listing wrote carries the full object: never overwrite it with the verify answer.
      setWhere: sql`${apiTokens.raw} ->> 'flarewatch_source' = 'tokens/verify'`,
    });
}
