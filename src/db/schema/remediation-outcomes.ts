import { bigint, bigserial, boolean, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { remediationActions } from './remediation-actions.js';
import { remediationAttempts } from './remediation-attempts.js';

export const OUTCOME_STATUSES = ['applied', 'skipped-state-moved', 'skipped', 'failed', 'undone'] as const;

/**
 * What became of an action (apply) or of its undo: the state read first, the request sent and the
 * API's answer, the state read after and whether it is what was intended. Committed before the
 * next action is sent.
 */
export const remediationOutcomes = pgTable(
  'remediation_outcomes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    actionId: bigint('action_id', { mode: 'number' }).notNull().references(() => remediationActions.id),
    /** Null when nothing was sent (skipped). */
    attemptId: bigint('attempt_id', { mode: 'number' }).references(() => remediationAttempts.id),
    phase: text('phase', { enum: ['apply', 'undo'] }).notNull(),
    status: text('status', { enum: OUTCOME_STATUSES }).notNull(),
    reason: text('reason'),
    beforeState: jsonb('before_state'),
    answer: jsonb('answer'),
    afterState: jsonb('after_state'),
    verified: boolean('verified').notNull().default(false),
    at: ts('at').notNull(),
  },
  (t) => [index('remediation_outcomes_action_idx').on(t.actionId, t.phase)],
);

export type RemediationOutcome = typeof remediationOutcomes.$inferSelect;
