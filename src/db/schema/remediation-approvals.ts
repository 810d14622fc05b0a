import { bigserial, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { remediationPlans } from './remediation-plans.js';

/** Who approved a plan, and when; a trigger refuses an approval by the plan's own planner. */
export const remediationApprovals = pgTable(
  'remediation_approvals',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    planId: integer('plan_id').notNull().references(() => remediationPlans.id),
    approvedBy: text('approved_by').notNull(),
    approvedAt: ts('approved_at').notNull(),
    /** 'person', or 'policy' for a hygiene policy with auto: true (the policy is the approval). */
    via: text('via', { enum: ['person', 'policy'] }).notNull().default('person'),
    note: text('note'),
  },
  (t) => [index('remediation_approvals_plan_idx').on(t.planId)],
);

export type RemediationApproval = typeof remediationApprovals.$inferSelect;
