import type { Tx } from '../db/client.js';
import { closeDeletedVersions, recordVersions, type VersionTracker } from '../db/queries/versions.js';
import type { Walk } from './walk.js';

// History is written in the transaction of the write that observes the change (a page's upsert,
// a deletion), so a crash never leaves a change without its version, nor a version without its change.

/** Versions for rows this walk just stored (nothing is written for rows that did not change). */
export async function storeVersions(tx: Tx, w: Walk, tracker: VersionTracker | undefined, ids: string[]): Promise<void> {
  if (tracker) await recordVersions(tx, tracker, ids, w.now(), { runId: w.runId, stream: w.stream });
}

/** Close the current version of rows this walk marked deleted (all deleted rows when no ids are given). */
export async function endVersions(tx: Tx, tracker: VersionTracker | undefined, ids?: string[]): Promise<void> {
  if (tracker) await closeDeletedVersions(tx, tracker, ids);
}
