import { bigserial, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** One row per walk of a stream: what it cost and what it did. */
export const syncRuns = pgTable(
  'sync_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    stream: text('stream').notNull(),
    /** The credential that walked it. */
    credential: text('credential'),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
    status: text('status', { enum: ['running', 'succeeded', 'failed'] }).notNull().default('running'),
    resumed: integer('resumed_from_page'),
    requests: integer('requests').notNull().default(0),
    pages: integer('pages').notNull().default(0),
    rowsFetched: integer('rows_fetched').notNull().default(0),
    rowsUpserted: integer('rows_upserted').notNull().default(0),
    rowsMarkedDeleted: integer('rows_marked_deleted').notNull().default(0),
    rowsQuarantined: integer('rows_quarantined').notNull().default(0),
    /** Deletions the mass-deletion guard held back in this walk. */
    deletionsHeld: integer('deletions_held').notNull().default(0),
    /** Extra walks of a listing whose pages did not join up. */
    rewalks: integer('rewalks').notNull().default(0),
    /** 429 answers this walk met: flarewatch paces under the limit, so each means another tool spent the budget (the plan backs off). */
    rateLimited: integer('rate_limited').notNull().default(0),
    /** Anything the walk decided that a reviewer should know (guard held, listing shifted, nothing marked deleted). */
    note: text('note'),
    error: text('error'),
  },
  (t) => [index('sync_runs_stream_started_idx').on(t.stream, t.startedAt)],
);
