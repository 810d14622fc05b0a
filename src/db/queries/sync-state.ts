import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { syncRuns, syncState } from '../schema/index.js';

export type SyncRun = typeof syncRuns.$inferSelect;
export type SyncStateRow = typeof syncState.$inferSelect;

/** What the mass-deletion guard held back: the ids, when, and the share of live rows they were. */
export interface HeldDeletions {
  ids: string[];
  at: string;
  live: number;
}

export async function getSyncState(tx: Tx, stream: string): Promise<SyncStateRow | undefined> {
  const [row] = await tx.select().from(syncState).where(eq(syncState.stream, stream));
  return row;
}

export async function saveCheckpoint(tx: Tx, stream: string, checkpoint: unknown, now: Date): Promise<void> {
  await tx
    .insert(syncState)
    .values({ stream, checkpoint, updatedAt: now })
    .onConflictDoUpdate({ target: syncState.stream, set: { checkpoint, updatedAt: now } });
}

/** `held`: undefined leaves the guard's state as it is; null clears it. */
export async function recordSuccess(tx: Tx, stream: string, checkpoint: unknown, now: Date, held?: HeldDeletions | null): Promise<void> {
  const guard = held === undefined ? {} : { heldDeletions: held };
  await tx
    .insert(syncState)
    .values({ stream, checkpoint, lastSuccessAt: now, updatedAt: now, ...guard })
    .onConflictDoUpdate({ target: syncState.stream, set: { checkpoint, lastSuccessAt: now, updatedAt: now, ...guard } });
}

export async function recordFailure(tx: Tx, stream: string, error: string, now: Date): Promise<void> {
  await tx
    .insert(syncState)
    .values({ stream, lastError: error, lastErrorAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: syncState.stream, set: { lastError: error, lastErrorAt: now, updatedAt: now } });
}

export async function startRun(tx: Tx, stream: string, credential: string, now: Date): Promise<number> {
  const [row] = await tx.insert(syncRuns).values({ stream, credential, startedAt: now }).returning({ id: syncRuns.id });
  return row!.id;
}

export interface RunCounts {
  requests: number;
  pages: number;
  rowsFetched: number;
  rowsUpserted: number;
  rowsMarkedDeleted: number;
  rowsQuarantined: number;
  deletionsHeld: number;
  rewalks: number;
  /** 429 answers met (the budget plan backs off on them). */
  rateLimited?: number;
  /** The page an interrupted walk resumed from, if it did. */
  resumed?: number | null;
  note?: string | null;
}

/** Counters are absolute (the walk keeps the totals), so writing them twice is harmless. */
export async function updateRun(tx: Tx, id: number, counts: RunCounts): Promise<void> {
  await tx.update(syncRuns).set(counts).where(eq(syncRuns.id, id));
}

export async function finishRun(tx: Tx, id: number, status: 'succeeded' | 'failed', counts: RunCounts, now: Date, error?: string): Promise<void> {
  await tx
    .update(syncRuns)
    .set({ ...counts, status, finishedAt: now, error: error ?? null })
    .where(eq(syncRuns.id, id));
}

/** Runs left 'running' by a process that died: close them so status queries tell the truth. */
export async function closeAbandonedRuns(tx: Tx, stream: string, now: Date): Promise<void> {
  await tx
    .update(syncRuns)
    .set({ status: 'failed', finishedAt: now, error: 'abandoned: the process walking this stream stopped before finishing' })
    .where(sql`${syncRuns.stream} = ${stream} and ${syncRuns.status} = 'running'`);
}
