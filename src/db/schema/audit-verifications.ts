import { date, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/**
 * `audit verify`: one row per (audit stream, UTC day) checked against what Cloudflare holds now.
 * A gap is an entry Cloudflare still serves that the archive lacks; an archived entry Cloudflare
 * no longer serves (its retention dropped it) is not a gap.
 */
export const auditVerifications = pgTable(
  'audit_verifications',
  {
    stream: text('stream').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    credential: text('credential'),
    /** Entries of that day in the archive, and in the API's answer, when verified. */
    archived: integer('archived').notNull(),
    api: integer('api').notNull(),
    /** Entries the API serves that the archive lacks (a sample of their ids is kept). */
    missing: integer('missing').notNull(),
    missingSample: jsonb('missing_sample'),
    status: text('status', { enum: ['ok', 'gap', 'repaired'] }).notNull(),
    verifiedAt: ts('verified_at').notNull(),
    repairedAt: ts('repaired_at'),
  },
  (t) => [primaryKey({ columns: [t.stream, t.day] })],
);
