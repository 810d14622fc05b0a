import { jsonb, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * A remediation plan: what a person (or a hygiene policy) asked for, frozen when it was made. Its
 * actions, approvals and outcomes are rows of their own tables; nothing here is ever updated (a
 * trigger refuses it), so a plan's state is read from those rows (remediation_plan_status view).
 */
export const remediationPlans = pgTable('remediation_plans', {
  id: serial('id').primaryKey(),
  createdAt: ts('created_at').notNull(),
  /** Who planned it; a hygiene policy plans as `policy:<rule>:<action>`. */
  createdBy: text('created_by').notNull(),
  /** What it was planned from: `{ findings: {...filter} }`, `{ review: id }` or `{ policy: {...} }`. */
  source: jsonb('source').notNull(),
  /** The credential that will send every request of the plan. */
  credential: text('credential').notNull(),
  note: text('note'),
});

export type RemediationPlan = typeof remediationPlans.$inferSelect;
