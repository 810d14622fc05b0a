// What a stream's walk receives and what a stream is, as types alone: every stream module and the
// catalog name them without importing runner.ts, which loads the catalog (and so every stream).
import type Cloudflare from 'cloudflare';
import type { ApiAccess, RequestTally } from '../cloudflare/client.js';
import type { Context } from '../context.js';
import type { CredentialAccess, Identity } from '../credentials/types.js';
import type { Tx } from '../db/client.js';
import type { HeldDeletions, RunCounts } from '../db/queries/sync-state.js';
import type { StreamScope } from './kinds.js';

/** What a stream's walk receives: the context plus its run's credential, client, counters and commit points. */
export interface Walk extends Context {
  stream: string;
  /** This walk's sync_runs row: history records which walk saw each change. */
  runId: number;
  scope: StreamScope;
  credential: CredentialAccess;
  identity: Identity;
  /** The owner recorded on user-owned rows (the user id, or `credential:<name>`). */
  owner: string;
  cf: Cloudflare;
  /** The walking credential's access (retries, timeouts, paced fetch). */
  api: ApiAccess;
  tally: RequestTally;
  counts: RunCounts;
  /** The checkpoint committed by the last walk of this stream (null when none). */
  checkpoint: unknown;
  /** Deletions the mass-deletion guard held back in an earlier walk. */
  heldDeletions: HeldDeletions | null;
  /** The operator released held deletions for this walk (`sync --confirm-deletions`). */
  confirmDeletions: boolean;
  /** Store one page: `write` and the checkpoint that covers it commit together. */
  commitPage(write: (tx: Tx) => Promise<void>, checkpoint: unknown): Promise<void>;
  /** End of a complete walk: `write` (e.g. mark deleted), success and the guard's state commit together. */
  complete(write: (tx: Tx) => Promise<void>, checkpoint: unknown, held?: HeldDeletions | null): Promise<void>;
  /** undefined: the resume was abandoned and the walk started over. */
  setResumedFromPage(page: number | undefined): void;
  /** Something a reviewer should know about this walk; kept in sync_runs.note and logged. */
  note(text: string): void;
}

export interface StreamJob {
  /** 'accounts:<credential>', 'account-tokens:<account id>', 'permission-groups', ... */
  stream: string;
  walk(w: Walk): Promise<void>;
}
