import { jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * Every audit-log entry of every version. Since migration 0023 audit_logs is a view (insertable)
 * over the compact store audit_entries, range-partitioned by month on event_time, whose repeated
 * columns are interned into audit_accounts, audit_actors, audit_actions and audit_zones and whose
 * raw JSON keeps only what the columns do not hold (rebuilt exactly by flarewatch_audit_raw).
 * drizzle-kit can declare neither, so all are created by custom migrations (0002, 0023) and kept
 * out of schema/index.ts (which drizzle-kit diffs); this definition only gives queries their types.
 * The view also has subject_email (what member events name, lower-cased), not listed here so that
 * export lines keep the columns they always had.
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
