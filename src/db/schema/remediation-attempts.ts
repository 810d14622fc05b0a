import { bigint, bigserial, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { remediationActions } from './remediation-actions.js';

/**
 * A send about to happen, committed before the request leaves: an attempt with no outcome is a send
 * that may or may not have reached Cloudflare (a crash), resolved on resume by reading the object again.
 */
export const remediationAttempts = pgTable(
  'remediation_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    actionId: bigint('action_id', { mode: 'number' }).notNull().references(() => remediationActions.id),
    /** 'apply' sends the planned request; 'undo' sends the one that restores the before-state. */
    phase: text('phase', { enum: ['apply', 'undo'] }).notNull(),
    startedAt: ts('started_at').notNull(),
    /** The request as sent (method, path, body; never a secret). */
    request: jsonb('request').notNull(),
    credential: text('credential').notNull(),
    /** The sending token's id, where known: links the audit entries the write causes back to it. */
    credentialTokenId: text('credential_token_id'),
  },
  (t) => [index('remediation_attempts_action_idx').on(t.actionId, t.phase)],
);

export type RemediationAttempt = typeof remediationAttempts.$inferSelect;
