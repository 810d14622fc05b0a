import { bigserial, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** One row per check run: what ran, what failed, what changed. */
export const checkRuns = pgTable('check_runs', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  startedAt: ts('started_at').notNull().defaultNow(),
  finishedAt: ts('finished_at'),
  status: text('status', { enum: ['running', 'succeeded', 'failed'] }).notNull().default('running'),
  rulesRun: integer('rules_run').notNull().default(0),
  rulesFailed: integer('rules_failed').notNull().default(0),
  rulesSkipped: integer('rules_skipped').notNull().default(0),
  findingsOpened: integer('findings_opened').notNull().default(0),
  findingsResolved: integer('findings_resolved').notNull().default(0),
  findingsOpen: integer('findings_open').notNull().default(0),
  /** [{ rule, error }] for every rule that failed or could not load. */
  errors: jsonb('errors'),
  errorSummary: text('error_summary'),
});

export type CheckRun = typeof checkRuns.$inferSelect;
