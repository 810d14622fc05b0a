import { bigint, bigserial, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * A hygiene policy's notice: "will be <action> on <date> unless it is used or excepted", given once
 * per (policy, object, finding episode). What became of it is a row of remediation_notice_events.
 */
export const remediationNotices = pgTable(
  'remediation_notices',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** `<rule>:<action>`: which policy gave it. */
    policy: text('policy').notNull(),
    objectKey: text('object_key').notNull(),
    findingId: bigint('finding_id', { mode: 'number' }).notNull(),
    noticeAt: ts('notice_at').notNull(),
    actOn: ts('act_on').notNull(),
    /** Owner or creator told, where known. */
    ownerEmail: text('owner_email'),
    /** The token's last use when notice was given: a later use cancels the action. */
    lastUsedOn: ts('last_used_on'),
    facts: jsonb('facts').notNull(),
  },
  (t) => [index('remediation_notices_object_idx').on(t.policy, t.objectKey, t.findingId)],
);

/** Each step after a notice: cancelled (used, resolved, suppressed, excepted), planned, applied. */
export const remediationNoticeEvents = pgTable('remediation_notice_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  noticeId: bigint('notice_id', { mode: 'number' }).notNull().references(() => remediationNotices.id),
  kind: text('kind', { enum: ['cancelled', 'planned', 'applied', 'failed'] }).notNull(),
  reason: text('reason'),
  planId: integer('plan_id'),
  at: ts('at').notNull(),
});

/** `fix except`: a hygiene policy leaves this object alone (until `expires_at`, when set). */
export const remediationExceptions = pgTable('remediation_exceptions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  objectKey: text('object_key').notNull(),
  /** Null: every policy; else the policy's rule id. */
  rule: text('rule'),
  reason: text('reason').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: ts('created_at').notNull(),
  expiresAt: ts('expires_at'),
});

export type RemediationNotice = typeof remediationNotices.$inferSelect;
