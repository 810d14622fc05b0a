import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import type { PlannedEvent } from '../../findings/plan.js';

// Writes outside a check run's merge (src/findings/merge.ts does the rule's batch): the rule's
// findings lock, events of an acknowledgement, one finding closed by hand.

const BATCH = 5000;
const batches = <T>(rows: T[]) => Array.from({ length: Math.ceil(rows.length / BATCH) }, (_, i) => rows.slice(i * BATCH, (i + 1) * BATCH));

/** Serialises writers of one rule's findings (two check runs at once never interleave). */
export async function lockRuleFindings(tx: Tx, ruleId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`flarewatch:findings:${ruleId}`}))`);
}

export async function insertFindingEvents(
  tx: Tx,
  events: Array<PlannedEvent & { findingId: number }>,
  checkRunId: number | null,
  now: Date,
): Promise<void> {
  for (const chunk of batches(events)) {
    const records = chunk.map((e) => ({
      finding_id: e.findingId, transition: e.transition, from_severity: e.fromSeverity, to_severity: e.toSeverity, facts: e.facts,
      reason: e.reason ?? null, acted_by: e.by ?? null, note: e.note ?? null,
    }));
    await tx.execute(sql`
      insert into finding_events (finding_id, check_run_id, at, transition, from_severity, to_severity, facts, reason, acted_by, note)
      select x.finding_id, ${checkRunId}, ${now}, x.transition, x.from_severity, x.to_severity, x.facts, x.reason, x.acted_by, x.note
      from jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
        as x(finding_id bigint, transition text, from_severity text, to_severity text, facts jsonb, reason text, acted_by text, note text)`);
  }
}

/** Close one open finding with a reason (an acknowledgement): the row, not a rule's batch. */
export async function resolveFinding(tx: Tx, id: number, resolution: { reason: string; by: string | null; note: string | null }, now: Date): Promise<void> {
  await tx.execute(sql`
    update findings set status = 'resolved', resolved_at = ${now}, updated_at = ${now}, last_seen_at = finding_last_seen(findings),
      resolution_reason = ${resolution.reason}, resolved_by = ${resolution.by}, resolution_note = ${resolution.note}
    where id = ${id}`);
}
