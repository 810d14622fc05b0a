import { bigint, bigserial, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { findings } from './findings.js';

export const TRANSITIONS = ['opened', 'refreshed', 'severity_changed', 'resolved', 'reopened', 'suppressed', 'unsuppressed'] as const;
export type TransitionKind = (typeof TRANSITIONS)[number];

/** Every transition of every finding, in order: the history reviewers and alerts read. */
export const findingEvents = pgTable(
  'finding_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    findingId: bigint('finding_id', { mode: 'number' })
      .notNull()
      .references(() => findings.id, { onDelete: 'cascade' }),
    checkRunId: bigint('check_run_id', { mode: 'number' }),
    at: ts('at').notNull().defaultNow(),
    transition: text('transition', { enum: TRANSITIONS }).notNull(),
    fromSeverity: text('from_severity'),
    toSeverity: text('to_severity'),
    facts: jsonb('facts'),
    /** resolved: why ('no longer detected', 'acknowledged', 'rule removed', 'account <id> <why>', ...); suppressed: 'suppressed'. */
    reason: text('reason'),
    /** Who acted (an acknowledgement's --by, a suppression's author), and their note. */
    actedBy: text('acted_by'),
    note: text('note'),
  },
  (t) => [index('finding_events_finding_idx').on(t.findingId, t.at)],
);

export type FindingEvent = typeof findingEvents.$inferSelect;
