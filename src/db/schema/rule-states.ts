import { boolean, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import type { DayFacts } from '../../rules/facts-query.js';
import { ts } from './columns.js';
import { FINDING_KINDS } from './findings.js';

export const RULE_STATUSES = ['active', 'disabled', 'removed'] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

/**
 * What the checks know of each rule across runs: whether it was ever checked here (the first
 * check of a rule is a baseline), whether it is disabled or gone, and whether the baseline
 * summary for it is still to be sent.
 */
export const ruleStates = pgTable('rule_states', {
  ruleId: text('rule_id').primaryKey(),
  kind: text('kind', { enum: FINDING_KINDS }).notNull().default('state'),
  status: text('status', { enum: RULE_STATUSES }).notNull().default('active'),
  firstCheckedAt: ts('first_checked_at').notNull().defaultNow(),
  /**
   * The rule's last successful check as of when this row was last written. While `checkedEveryRun`,
   * it has also succeeded in every finished check run since (rule_last_checked(), migration 0027):
   * a steady check writes no row here.
   */
  lastCheckedAt: ts('last_checked_at').notNull().defaultNow(),
  /** The rule succeeded in every finished check run since last_checked_at; cleared by a run it did not succeed in. */
  checkedEveryRun: boolean('checked_every_run').notNull().default(false),
  statusChangedAt: ts('status_changed_at').notNull().defaultNow(),
  /** A baseline checked this rule; the summary alert has not been queued yet. */
  summaryPending: boolean('summary_pending').notNull().default(false),
  /** Findings a baseline recorded without alerts since the last summary. */
  baselined: integer('baselined').notNull().default(0),
  /**
   * The rule's facts that count days from now, each with the fact holding its date (src/rules/facts-query.ts
   * DayCount): findings store the count of the day they were written; finding_facts() counts again (migration 0030).
   */
  dayFacts: jsonb('day_facts').$type<DayFacts>().notNull().default({}),
});

export type RuleState = typeof ruleStates.$inferSelect;
