import { bigserial, integer, pgTable, real, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * One row per budget per round the budget plan shaped: what the round could spend on that budget
 * and what it planned. What it used is read from sync_runs (the walks its credentials started
 * before the budget's next round), so a row is written once and never updated.
 */
export const budgetRounds = pgTable(
  'budget_rounds',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The round's tick. */
    roundAt: ts('round_at').notNull(),
    /** What Cloudflare counts the limit against: `user:<id>`, `account-token:<id>`, or `credential:<name>` before it is known. */
    budget: text('budget').notNull(),
    /** The configured credentials spending this budget (their walks are its use). */
    credentials: text('credentials').array().notNull(),
    /** budget.share after any 429 backoff. */
    share: real('share').notNull(),
    /** Requests the round may spend on this budget: share × the limit over the round, less what the audit rounds before the next need. */
    capacity: integer('capacity').notNull(),
    /** Estimated requests of the streams planned (each one's last complete walk). */
    planned: integer('planned').notNull(),
    /** Estimated requests of every stream due, planned or not. */
    needed: integer('needed').notNull(),
    streamsPlanned: integer('streams_planned').notNull(),
    /** Streams left to a later round (within their maximum staleness). */
    deferred: text('deferred').array().notNull(),
  },
  (t) => [uniqueIndex('budget_rounds_budget_round_idx').on(t.budget, t.roundAt)],
);
