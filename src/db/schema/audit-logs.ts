import { jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * Every audit-log entry of every version, range-partitioned by month on event_time.
 * drizzle-kit cannot declare partitioning, so this table is created by the custom
 * migration 0002_audit_logs.sql and deliberately kept out of schema/index.ts (which
 * drizzle-kit diffs); this definition only gives queries their types.
 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    source: text('source', { enum: ['user_v1', 'account_v1', 'account_v2'] }).notNull(),
    id: text('id').notNull(),
    eventTime: ts('event_time').notNull(),
    accountId: text('account_id'),
    accountName: text('account_name'),
    actionType: text('action_type'),
    actionResult: text('action_result'),
    actionDescription: text('action_description'),
    actorId: text('actor_id'),
    actorEmail: text('actor_email'),
    actorIp: text('actor_ip'),
    actorType: text('actor_type'),
    actorContext: text('actor_context'),
    actorTokenId: text('actor_token_id'),
    actorTokenName: text('actor_token_name'),
    interface: text('interface'),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    resourceProduct: text('resource_product'),
    resourceScope: text('resource_scope'),
    zoneId: text('zone_id'),
    zoneName: text('zone_name'),
    raw: jsonb('raw').notNull(),
    archivedAt: ts('archived_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.source, t.id, t.eventTime] })],
);

export type AuditLogRow = typeof auditLogs.$inferInsert;
