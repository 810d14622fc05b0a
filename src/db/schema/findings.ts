import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * One row per (rule, resource): the fingerprint is a hash of both, so a finding keeps its
 * identity (and its history) across check runs, resolutions and reopenings.
 */
export const findings = pgTable(
  'findings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    fingerprint: text('fingerprint').notNull().unique(),
    ruleId: text('rule_id').notNull(),
    resourceKey: text('resource_key').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceName: text('resource_name'),
    accountId: text('account_id'),
    severity: text('severity', { enum: ['info', 'low', 'medium', 'high', 'critical'] }).notNull(),
    status: text('status', { enum: ['open', 'resolved'] }).notNull().default('open'),
    // Suppressed findings stay visible: a reviewer sees what is accepted and why.
    suppressed: boolean('suppressed').notNull().default(false),
    suppressionId: bigint('suppression_id', { mode: 'number' }),
    title: text('title').notNull(),
    facts: jsonb('facts').notNull(),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    resolvedAt: ts('resolved_at'),
    reopenedCount: integer('reopened_count').notNull().default(0),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('findings_rule_status_idx').on(t.ruleId, t.status), index('findings_status_severity_idx').on(t.status, t.severity)],
);

export type Finding = typeof findings.$inferSelect;
