import { bigint, bigserial, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** How a version began: the state when history started (migration), a new object, a change, an object back from deletion. */
export const VERSION_CHANGES = ['baseline', 'created', 'changed', 'restored'] as const;

/**
 * Columns every history table carries: one row per state of one object, valid over
 * [valid_from, valid_to). The open version (valid_to null) is the object as it is now; a
 * deletion closes it. No raw API object and nothing secret is ever copied here.
 */
export const versionColumns = {
  versionId: bigserial('version_id', { mode: 'number' }).primaryKey(),
  /** When a walk first saw this state (for `baseline`: the object's first_seen_at). */
  validFrom: ts('valid_from').notNull(),
  /** When a walk saw it change, or when the object was marked deleted; null while current. */
  validTo: ts('valid_to'),
  change: text('change', { enum: VERSION_CHANGES }).notNull(),
  /** Tracked columns that differ from the previous version (empty for created and baseline). */
  changedFields: text('changed_fields').array().notNull(),
  /** Why the version ended: a newer version replaced it, or the object was deleted. */
  endedBy: text('ended_by', { enum: ['change', 'deletion'] }),
  /** The deletion's reason (the object's deleted_reason). */
  endReason: text('end_reason'),
  /** The walk that saw this state first (sync_runs.id) and its stream; null for baseline versions. */
  runId: bigint('run_id', { mode: 'number' }),
  stream: text('stream'),
};
