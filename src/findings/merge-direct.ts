import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { type EventRow, type MergedEvent, type MergeInput, mergedEvent } from './merge.js';
import { coveredBy, newFingerprint, suppressionsCte } from './merge-plan.js';
import { REASONS } from './reasons.js';

// A rule with no findings at all (its first check, the common case of a first run): every hit is
// new, so the general merge (./merge-plan.ts) can only take its `open` branch, and there is no
// stored finding to resolve, reopen or compare. Its findings and their events are written straight
// from the staged hits in one statement: no plan table, no join with stored findings, no facts
// carried through a sort by resource key. The rows are the general merge's, column for column
// (test/integration/check-direct.test.ts runs the same worlds through both).

/**
 * True when the rule has no finding in any state: the direct write is then the whole merge. A
 * resolved finding counts too (a hit of its key reopens it), and so does one of a retired key.
 */
export async function hasNoFindings(tx: Tx, ruleId: string): Promise<boolean> {
  const res = await tx.execute<{ none: boolean }>(sql`select not exists (select 1 from findings where rule_id = ${ruleId}) as none`);
  return res.rows[0]!.none;
}

/**
 * Every staged hit as a new finding, in the rule's order (`ord`), with its events: `opened`, and
 * for a detection a suppression covers, `resolved` at once (recorded and closed, as planDetection
 * does). A rule returning a resource twice: the first row wins. Returns the events written, in order.
 */
export async function insertAllNew(tx: Tx, m: MergeInput): Promise<MergedEvent[]> {
  const closes = m.kind === 'detection' ? sql`hs.id is not null` : sql`false`;
  const res = await tx.execute<EventRow>(sql`
    with ${suppressionsCte(m.suppressions)},
    h as (
      select x.* from finding_hits x
      where not exists (select 1 from finding_hits y where y.resource_key = x.resource_key and y.ord < x.ord)
    ),
    opened as (
      insert into findings (fingerprint, rule_id, kind, resource_key, resource_type, resource_name, account_id, severity, status,
                            suppressed, suppression_id, title, facts, first_seen_at, last_seen_at, updated_at, last_event_at,
                            resolved_at, resolution_reason, resolved_by, resolution_note, reopened_count, input_hash)
      select ${newFingerprint(m.ruleId, sql`h.resource_key`)}, ${m.ruleId}, ${m.kind}, h.resource_key, h.resource_type, h.resource_name, h.account_id,
             h.severity, case when c.closed then 'resolved' else 'open' end, hs.id is not null, hs.id, ${m.title}, h.facts,
             ${m.now}, ${m.now}, ${m.now}, h.last_event_at, case when c.closed then ${m.now}::timestamptz end,
             case when c.closed then ${REASONS.suppressed} end, case when c.closed then hs.created_by end, case when c.closed then hs.reason end,
             0, h.input_hash
      from h
      left join ${coveredBy(sql`h.resource_key`, m.suppressions.length > 0)} hs on true
      cross join lateral (select ${closes} as closed) c
      order by h.ord
      returning id, fingerprint, resource_key, resource_type, resource_name, account_id, severity, suppressed, status,
                resolution_reason, resolved_by, resolution_note, facts
    ),
    -- Ids follow the rule's order (the insert above is sorted by it): (id, seq) is the planner's order.
    ev as (
      select o.id as finding_id, o.fingerprint, o.resource_key, o.resource_type, o.resource_name, o.account_id, o.severity, o.suppressed,
             e.seq, e.transition, e.from_severity, e.to_severity, e.reason, e.acted_by, e.note, o.facts
      from opened o
      cross join lateral (values
        (1, 'opened', null::text, o.severity, null::text, null::text, null::text),
        (2, 'resolved', o.severity, null::text, o.resolution_reason, o.resolved_by, o.resolution_note)
      ) e(seq, transition, from_severity, to_severity, reason, acted_by, note)
      where e.seq = 1 or o.status = 'resolved'
    ),
    written as (
      insert into finding_events (finding_id, check_run_id, at, transition, from_severity, to_severity, facts, reason, acted_by, note)
      select finding_id, ${m.checkRunId}::bigint, ${m.now}, transition, from_severity, to_severity, facts, reason, acted_by, note
      from ev order by finding_id, seq
    )
    select finding_id, fingerprint, resource_key, resource_type, resource_name, account_id, severity, suppressed,
           transition, from_severity, to_severity, reason, acted_by, note
    from ev order by finding_id, seq`);
  return res.rows.map(mergedEvent);
}
