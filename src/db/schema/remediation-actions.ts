import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { remediationPlans } from './remediation-plans.js';

import { REMEDIATION_KINDS, type RemediationKind } from './remediation-kinds.js';

export { REMEDIATION_KINDS, type RemediationKind };

/**
 * One change of a plan: the exact request it will send (never a secret) and the state it assumes
 * (`precondition`: modified_on and the fields the change depends on). `before` is the whole object
 * as read when planned, from which undo restores a reversible action.
 */
export const remediationActions = pgTable(
  'remediation_actions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    planId: integer('plan_id').notNull().references(() => remediationPlans.id),
    seq: integer('seq').notNull(),
    kind: text('kind', { enum: REMEDIATION_KINDS }).notNull(),
    /** `token:<id>`, `member:<account>:<id>`, `group-member:<account>:<group>:<member>`, `invite:<id>`. */
    objectKey: text('object_key').notNull(),
    accountId: text('account_id'),
    /** The id Cloudflare's audit log names as the resource of the write (token, member, group or invite id). */
    resourceId: text('resource_id').notNull(),
    label: text('label'),
    /** Where the object is read (GET) to check the precondition and verify the change. */
    readPath: text('read_path').notNull(),
    method: text('method', { enum: ['PUT', 'DELETE', 'PATCH'] }).notNull(),
    path: text('path').notNull(),
    body: jsonb('body'),
    precondition: jsonb('precondition').notNull(),
    before: jsonb('before').notNull(),
    credential: text('credential').notNull(),
    reversible: boolean('reversible').notNull(),
    destructive: boolean('destructive').notNull(),
    /** Why: the finding (or review decision) it answers. */
    findingId: bigint('finding_id', { mode: 'number' }),
    reason: text('reason').notNull(),
  },
  (t) => [index('remediation_actions_plan_idx').on(t.planId, t.seq), index('remediation_actions_object_idx').on(t.objectKey)],
);

export type RemediationAction = typeof remediationActions.$inferSelect;
