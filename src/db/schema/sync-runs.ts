import { bigserial, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** One row per walk of a stream: what it cost and what it did. */
export const syncRuns = pgTable(
  'sync_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    stream: text('stream').notNull(),
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
    error: text('error'),
  },
  (t) => [index('sync_runs_stream_started_idx').on(t.stream, t.startedAt)],
);
