import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * A state finding says "this is wrong now" and resolves when it is fixed; a detection says
 * "this happened" (audit-log rules) and stays open until someone acknowledges it.
 */
export const FINDING_KINDS = ['state', 'detection'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

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
    kind: text('kind', { enum: FINDING_KINDS }).notNull().default('state'),
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
    /**
     * A hash of what the rule built `facts` from (the rule's declared inputs, src/rules/facts-query.ts):
     * a check run that finds the same hash for an open finding does not build its facts again. Null:
     * the rule declares no inputs, or the finding predates the column (its facts are built and compared once).
     */
    inputHash: bigint('input_hash', { mode: 'bigint' }),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
    /** Detections: time of the latest event they cover; newer evidence reopens an acknowledged one. */
    lastEventAt: ts('last_event_at'),
    resolvedAt: ts('resolved_at'),
    /** Why the last resolution happened ('no longer detected', 'acknowledged', 'rule disabled', ...); null while open. */
    resolutionReason: text('resolution_reason'),
    /** Who resolved it (acknowledgements, suppressions) and what they wrote. */
    resolvedBy: text('resolved_by'),
    resolutionNote: text('resolution_note'),
    reopenedCount: integer('reopened_count').notNull().default(0),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('findings_rule_status_idx').on(t.ruleId, t.status), index('findings_status_severity_idx').on(t.status, t.severity)],
);

/** A finding as commands, exports and alerts read it: the input hash is the check run's own bookkeeping, never shown. */
export type Finding = Omit<typeof findings.$inferSelect, 'inputHash'>;
