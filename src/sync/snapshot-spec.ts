// How one inventory listing maps onto one table, as a type alone: snapshot.ts walks it, and its
// helpers (deletions.ts, snapshot-walk.ts) read it without importing snapshot.ts back.
import type { SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Query } from '../cloudflare/fetch-envelope.js';
import type { Tx } from '../db/client.js';
import type { SyncedTable } from '../db/queries/snapshot.js';
import type { VersionTracker } from '../db/queries/versions.js';
import type { Walk } from './walk.js';

/** How one inventory listing maps onto one table. */
export interface SnapshotSpec {
  path: string | ((w: Walk) => string);
  query?: Query;
  /** Page size for page-numbered listings; omit for single-page listings. */
  perPage?: number;
  /** Ask for page 1 only: the listing answers the same page whatever page is asked. */
  firstPageOnly?: (w: Walk) => boolean;
  /** The endpoint returns one object (GET /user), not a list: nothing is ever marked deleted. */
  object?: boolean;
  table: SyncedTable & PgTable;
  conflict: PgColumn[];
  idColumn: PgColumn;
  /** Which rows of the table this stream owns (for marking deletions). */
  scope?: (w: Walk) => SQL;
  /** Where Cloudflare answers for one object (404 = it is gone), to confirm each deletion. */
  detailPath?: (id: string, w: Walk) => string;
  /** Store only these items (default: all). */
  keep?: (item: Record<string, unknown> & { id: string }, w: Walk) => boolean;
  /** The table keeps a history of its rows: every change observed becomes a version (src/history/trackers.ts). */
  history?: VersionTracker;
  /** More to write in each page's transaction, with the ids of the rows stored (what a credential reaches). */
  alsoWrite?: (tx: Tx, ids: string[], w: Walk) => Promise<void>;
  /** The item as stored and compared (e.g. a group member keyed `<group>:<member>`); detail answers go through it too. */
  mapItem?: (item: Record<string, unknown>) => Record<string, unknown>;
  /** The access_listings row this walk writes (src/sync/listings.ts). */
  listing?: string;
  /** A 403 is recorded `forbidden` and ends the walk as done instead of failing it (access-path listings). */
  forbiddenCompletes?: boolean;
  /**
   * After a complete walk: whether it was only the credential's own view (a token provisioner sees the tokens it
   * created). Then the listing is `partial` with `viewOf`, and deletions are confined to `scope`.
   */
  view?: (w: Walk, seen: Set<string>) => { viewOf: string; scope: SQL } | undefined;
  toRow(item: Record<string, unknown> & { id: string }, w: Walk): Record<string, unknown>;
}
