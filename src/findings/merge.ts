import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import type { TransitionKind } from '../db/schema/finding-events.js';
import type { FindingKind } from '../db/schema/findings.js';
import type { Severity } from '../rules/types.js';
import { planStatement, type PlanInput } from './merge-plan.js';

// One rule's result merged into its findings inside PostgreSQL: the hits are staged (COPY, or the
// rule's own query), finding_plan (./merge-plan.ts) says what changes, and two statements write
// it: changed findings, then new findings with every event. Work and writes grow with what
// changed, not with how many findings are open: a finding the rule returns unchanged is read,
// compared and left alone.

export interface MergeInput extends PlanInput {
  checkRunId: number | null;
  /**
   * The rule's last successful check before this one: an open state finding was returned by every
   * check since it opened, so this is when it was last seen; recorded on the row when it resolves.
   */
  confirmedAt: Date | null;
}

/**
 * One event written, with the finding as it is after the write (what the alerts stage needs to
 * decide and route). Not its facts: they are the finding's as written (findings.facts), which the
 * alerts stage reads for the events it turns into alerts; a first check returns every finding
 * and alerts none of them one by one, so carrying the facts back to Node cost without use.
 */
export interface MergedEvent {
  findingId: number;
  fingerprint: string;
  resourceKey: string;
  resourceType: string;
  resourceName: string | null;
  accountId: string | null;
  transition: TransitionKind;
  fromSeverity: Severity | null;
  toSeverity: Severity | null;
  /** The finding's severity after the transition. */
  severity: Severity;
  /** The finding is suppressed after the transition. */
  suppressed: boolean;
  /** resolved / suppressed: why, by whom, with what note. */
  reason: string | null;
  by: string | null;
  note: string | null;
}

/**
 * The new state of existing findings. The resolution columns are set by the write that resolves,
 * cleared by one that (re)opens, and kept otherwise; a `touch` (only the rule's title or the stored input hash changed, or a detection returned without newer evidence) moves
 * nothing else. An open state finding resolved here records when it was last seen (`confirmedAt`).
 */
async function updateChanged(tx: Tx, m: MergeInput): Promise<void> {
  await tx.execute(sql`
    update findings f set
      title = ${m.title},
      last_seen_at = case when p.seen then ${m.now}::timestamptz
                          when f.kind = 'state' and f.status = 'open' then greatest(f.last_seen_at, ${m.confirmedAt}::timestamptz)
                          else f.last_seen_at end,
      kind = case when p.branch = 'touch' then f.kind else ${m.kind} end,
      resource_type = case when p.branch = 'touch' then f.resource_type else p.resource_type end,
      resource_name = case when p.branch = 'touch' then f.resource_name else p.resource_name end,
      account_id = case when p.branch = 'touch' then f.account_id else p.account_id end,
      last_event_at = case when p.branch = 'touch' then f.last_event_at else p.last_event_at end,
      severity = case when p.branch = 'touch' then f.severity else p.severity end,
      facts = case when p.branch = 'touch' then f.facts else p.facts end,
      input_hash = p.input_hash,
      status = p.status, suppressed = p.suppressed, suppression_id = p.suppression_id, reopened_count = p.reopened_count,
      resolution_reason = case when p.resolved then p.reason when p.status = 'open' then null else f.resolution_reason end,
      resolved_by = case when p.resolved then p.resolved_by when p.status = 'open' then null else f.resolved_by end,
      resolution_note = case when p.resolved then p.resolution_note when p.status = 'open' then null else f.resolution_note end,
      resolved_at = case when p.resolved then ${m.now}::timestamptz when p.status = 'open' then null else f.resolved_at end,
      updated_at = case when p.branch = 'touch' then f.updated_at else ${m.now}::timestamptz end
    from finding_plan p
    where p.branch <> 'open' and f.id = p.id`);
}

export interface EventRow extends Record<string, unknown> {
  finding_id: string; fingerprint: string; resource_key: string; resource_type: string; resource_name: string | null; account_id: string | null;
  severity: Severity; suppressed: boolean; transition: TransitionKind; from_severity: Severity | null; to_severity: Severity | null;
  reason: string | null; acted_by: string | null; note: string | null;
}

/**
 * New findings and every planned event, in one statement: the findings inserted return their ids
 * to the events that need them (no lookup per event), and the events are written in the planner's
 * order and returned with the finding they belong to (as the plan wrote it: a row with an event is
 * never a `touch`, which keeps the stored columns), without the facts (MergedEvent).
 */
async function insertOpenedAndEvents(tx: Tx, m: MergeInput): Promise<MergedEvent[]> {
  const res = await tx.execute<EventRow>(sql`
    with opened as (
      insert into findings (fingerprint, rule_id, kind, resource_key, resource_type, resource_name, account_id, severity, status,
                            suppressed, suppression_id, title, facts, first_seen_at, last_seen_at, updated_at, last_event_at,
                            resolved_at, resolution_reason, resolved_by, resolution_note, reopened_count, input_hash)
      select p.fingerprint, ${m.ruleId}, ${m.kind}, p.resource_key, p.resource_type, p.resource_name, p.account_id,
             p.severity, p.status, p.suppressed, p.suppression_id, ${m.title}, p.facts, ${m.now}, ${m.now}, ${m.now}, p.last_event_at,
             case when p.resolved then ${m.now}::timestamptz end, p.reason, p.resolved_by, p.resolution_note, 0, p.input_hash
      from finding_plan p where p.branch = 'open' order by p.ord
      returning id, fingerprint
    ),
    ev as (
      select coalesce(p.id, o.id) as finding_id, p.fingerprint, p.resource_key, p.resource_type, p.resource_name, p.account_id, p.severity, p.suppressed,
             e.ev ->> 'transition' as transition, e.ev ->> 'from' as from_severity, e.ev ->> 'to' as to_severity, p.facts,
             e.ev ->> 'reason' as reason, e.ev ->> 'by' as acted_by, e.ev ->> 'note' as note,
             row_number() over (order by coalesce(p.ord, 2147483647), p.id, e.seq) as n
      from finding_plan p
      left join opened o on p.id is null and o.fingerprint = p.fingerprint
      cross join lateral (values (1, p.e1), (2, p.e2)) e(seq, ev)
      where e.ev is not null
    ),
    written as (
      insert into finding_events (finding_id, check_run_id, at, transition, from_severity, to_severity, facts, reason, acted_by, note)
      -- A day count in facts not written now is the one of the day they were: counted again for the record.
      select finding_id, ${m.checkRunId}::bigint, ${m.now}, transition, from_severity, to_severity,
             ${m.dayFacts?.length ? sql`facts_at(${m.ruleId}::text, facts, ${m.now}::timestamptz)` : sql`facts`}, reason, acted_by, note from ev order by n
    )
    select finding_id, fingerprint, resource_key, resource_type, resource_name, account_id, severity, suppressed,
           transition, from_severity, to_severity, reason, acted_by, note
    from ev order by n`);
  return res.rows.map(mergedEvent);
}

/** An event row as the merge statements return it. */
export const mergedEvent = (r: EventRow): MergedEvent => ({
  findingId: Number(r.finding_id), fingerprint: r.fingerprint, resourceKey: r.resource_key, resourceType: r.resource_type,
  resourceName: r.resource_name, accountId: r.account_id, severity: r.severity, suppressed: r.suppressed, transition: r.transition,
  fromSeverity: r.from_severity, toSeverity: r.to_severity, reason: r.reason, by: r.acted_by, note: r.note,
});

/** Open findings of the rule it did not return this time, once its hits are staged (candidates for a retired key's reason). */
export async function openNotReturned(tx: Tx, ruleId: string): Promise<string[]> {
  const res = await tx.execute<{ resource_key: string }>(sql`
    select f.resource_key from findings f
    where f.rule_id = ${ruleId} and f.status = 'open' and not exists (select 1 from finding_hits h where h.resource_key = f.resource_key)
    order by f.id`);
  return res.rows.map((r) => r.resource_key);
}

/** Plan and write one rule's result; the hits must be staged. Returns the events written, in order. */
export async function mergeStaged(tx: Tx, m: MergeInput): Promise<MergedEvent[]> {
  await tx.execute(sql`drop table if exists pg_temp.finding_plan`);
  const planned = await tx.execute(planStatement(m));
  // The statements below join the plan with findings: estimates for them, when there are many rows (a first check).
  if ((planned.rowCount ?? 0) > 1000) await tx.execute(sql`analyze finding_plan (branch, id, fingerprint)`);
  // Existing findings first: the statement after inserts the new ones and writes every event.
  await updateChanged(tx, m);
  return insertOpenedAndEvents(tx, m);
}
