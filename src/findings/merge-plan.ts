import { type SQL, sql } from 'drizzle-orm';
import type { FindingKind } from '../db/schema/findings.js';
import { REASONS } from './reasons.js';

// planFindings (./plan.ts) as one SQL statement: the rule's hits (staged in finding_hits) against
// its stored findings, in PostgreSQL, so no stored finding travels to Node and a finding that did
// not change is not written. The unit tests of plan.ts are the specification; the integration test
// findings-merge-sql runs the same cases through both. A row of finding_plan is one finding to
// write (`branch` says how) with its new state and up to two events, in the planner's order.

export interface PlanInput {
  ruleId: string;
  title: string;
  kind: FindingKind;
  now: Date;
  /** Suppressions that may apply (this rule or `*`, active now), as SQL matching needs them. */
  suppressions: Array<{ id: number; pattern: string; like: string | null; expiresAt: string | null; reason: string; createdBy: string | null }>;
  /** Resolve every open finding the rule did not return with this reason (rule disabled or removed). */
  retireAll: string | null;
  /** Reasons for open findings of retired keys the rule no longer produces: resource key → reason. */
  retired: Record<string, string>;
  /**
   * Facts that count days from now (src/rules/facts-query.ts DayCount): left out of the comparison,
   * their date being another fact, so a day going by rewrites nothing. Readers count them again.
   */
  dayFacts?: string[];
}

/**
 * The suppression that covers `key` now: the longest-lasting (no expiry first), then the oldest
 * (suppression-match.ts). With no suppression that may apply, none: a constant row, not a lookup per hit.
 */
export const coveredBy = (key: SQL, any: boolean) => any
  ? sql`lateral (
  select s.id, s.reason, s.created_by from supp s
  where ${key} is not null and (case when s.like_pattern is null then s.pattern = ${key} else ${key} like s.like_pattern end)
  order by s.expires_at desc nulls first, s.id limit 1)`
  : sql`(select null::bigint as id, null::text as reason, null::text as created_by)`;

const STATE = sql.raw(`'state'`);

/** Facts `e` as compared: without the day counts (compared by their dates, other facts). */
const compared = (e: SQL, dayFacts: string[] = []) => (dayFacts.length ? sql`(${e} - ${sql.param(dayFacts)}::text[])` : e);

/** The hit `h` brings newer evidence than the stored finding `o`: a later last event, or (a rule that gives no event time) different facts. */
const newer = (days?: string[]) => sql`(case when h.last_event_at is null then ${compared(sql`o.facts`, days)} <> ${compared(sql`h.facts`, days)}
                        else o.last_event_at is null or h.last_event_at > o.last_event_at end)`;

/** The branch of the planner a (hit, stored finding) pair takes; null: nothing to write. */
const BRANCH = sql`case
  when j.h_key is not null and j.kind = ${STATE} then
    case when j.o_id is null then 'open'
         when j.o_status = 'resolved' then 'reopen'
         when j.facts_changed or j.o_severity <> j.h_severity or j.o_suppressed <> (j.hs_id is not null)
           or j.o_suppression_id is distinct from j.hs_id or j.o_name is distinct from j.h_name
           or j.o_type <> j.h_type or j.o_account is distinct from j.h_account then 'change'
         -- Also a stored input hash to replace (none yet, or the facts were built and found equal): no event.
         when j.o_title is distinct from j.title or j.o_input_hash is distinct from j.h_input_hash then 'touch' end
  when j.h_key is not null then
    case when j.o_id is null then 'open'
         when j.o_status = 'resolved' then case when not j.newer then null when j.hs_id is not null then 'quiet' else 'reopen' end
         when j.hs_id is not null then 'suppress'
         when j.newer or j.o_suppressed then 'change'
         -- Returned again without newer evidence: nothing to write (its last_seen_at is its latest evidence's
         -- recording), unless the rule's title or the stored input hash is to be replaced.
         when j.o_title is distinct from j.title or j.o_input_hash is distinct from j.h_input_hash then 'touch' end
  when j.o_status = 'open' then
    case when j.gone_reason is not null then 'resolve'
         when not j.o_suppressed and j.cs_id is not null then 'covered' end
end`;

/**
 * One event: transition, severities and, for a resolution or suppression, why, by whom, with what
 * note. The facts it records are always the row's as written (finding_plan.facts): not copied here.
 */
const ev = (t: string, from: SQL, to: SQL, why: [SQL, SQL, SQL] = [sql`null`, sql`null`, sql`null`]) =>
  sql`jsonb_build_object('transition', ${t}::text, 'from', ${from}::text, 'to', ${to}::text,
                         'reason', ${why[0]}::text, 'by', ${why[1]}::text, 'note', ${why[2]}::text)`;
const NO_EVENT = sql`null::jsonb`;
const SUPPRESSED_BY_HIT: [SQL, SQL, SQL] = [sql`${REASONS.suppressed}`, sql`j.hs_by`, sql`j.hs_reason`];

const FIRST_EVENT = sql`case b.branch
  when 'open' then ${ev('opened', sql`null`, sql`j.h_severity`)}
  when 'reopen' then ${ev('reopened', sql`j.o_severity`, sql`j.h_severity`)}
  when 'change' then case
    when j.kind <> ${STATE} and not j.newer then ${NO_EVENT}
    when j.o_severity <> j.h_severity then ${ev('severity_changed', sql`j.o_severity`, sql`j.h_severity`)}
    when j.facts_changed then ${ev('refreshed', sql`j.o_severity`, sql`j.h_severity`)}
    else ${NO_EVENT} end
  when 'suppress' then ${ev('resolved', sql`c.severity`, sql`null`, SUPPRESSED_BY_HIT)}
  when 'resolve' then ${ev('resolved', sql`j.o_severity`, sql`null`, [sql`j.gone_reason`, sql`null`, sql`null`])}
  when 'covered' then ${ev('resolved', sql`j.o_severity`, sql`null`, [sql`${REASONS.suppressed}`, sql`j.cs_by`, sql`j.cs_reason`])}
  else ${NO_EVENT} end`;

const SECOND_EVENT = sql`case
  when b.branch = 'open' and j.kind <> ${STATE} and j.hs_id is not null then ${ev('resolved', sql`j.h_severity`, sql`null`, SUPPRESSED_BY_HIT)}
  when b.branch = 'change' and j.kind = ${STATE} and not j.o_suppressed and j.hs_id is not null
    then ${ev('suppressed', sql`j.h_severity`, sql`j.h_severity`, SUPPRESSED_BY_HIT)}
  when b.branch = 'change' and j.kind = ${STATE} and j.o_suppressed and j.hs_id is null
    then ${ev('unsuppressed', sql`j.h_severity`, sql`j.h_severity`)}
  else ${NO_EVENT} end`;

/** A new finding's fingerprint: sha256(rule id, NUL, resource key), as ./fingerprint.ts computes it. */
export const newFingerprint = (ruleId: string, key: SQL) =>
  sql`encode(sha256(convert_to(${ruleId}::text, 'UTF8') || '\\x00'::bytea || convert_to(${key}, 'UTF8')), 'hex')`;

/** `supp`: the suppressions that may apply, as rows for coveredBy. */
export function suppressionsCte(list: PlanInput['suppressions']): SQL {
  const supp = JSON.stringify(list.map((s) => ({ id: s.id, pattern: s.pattern, like_pattern: s.like, expires_at: s.expiresAt, reason: s.reason, created_by: s.createdBy })));
  return sql`supp as (
      select * from jsonb_to_recordset(${supp}::jsonb)
        as s(id bigint, pattern text, like_pattern text, expires_at timestamptz, reason text, created_by text)
    )`;
}

/**
 * finding_plan: every finding of the rule this check writes, with its new state, whether the write
 * resolves it, and its events. `seen`: returned by the rule now (last_seen_at moves to now).
 */
export function planStatement(p: PlanInput): SQL {
  return sql`
    create temp table finding_plan on commit drop as
    with ${suppressionsCte(p.suppressions)},
    -- A rule returning a resource twice: the first row wins.
    h as (select distinct on (x.resource_key) x.* from finding_hits x order by x.resource_key, x.ord),
    o as (select f.* from findings f where f.rule_id = ${p.ruleId}),
    j as (
      select ${p.kind}::text as kind, ${p.title}::text as title, h.ord,
             h.resource_key as h_key, h.resource_type as h_type, h.resource_name as h_name, h.account_id as h_account,
             h.severity as h_severity, h.facts as h_facts, h.last_event_at as h_last_event_at,
             o.id as o_id, o.fingerprint as o_fingerprint, o.resource_key as o_key, o.resource_type as o_type, o.resource_name as o_name, o.account_id as o_account,
             o.severity as o_severity, o.facts as o_facts, o.last_event_at as o_last_event_at, o.status as o_status,
             o.suppressed as o_suppressed, o.suppression_id as o_suppression_id, o.reopened_count as o_reopened, o.title as o_title,
             h.input_hash as h_input_hash, o.input_hash as o_input_hash,
             -- Facts not built: the hit's inputs hash as the open finding's, whose facts stand for them.
             case when h.facts is null then false else ${compared(sql`o.facts`, p.dayFacts)} <> ${compared(sql`h.facts`, p.dayFacts)} end as facts_changed,
             ${newer(p.dayFacts)} as newer,
             hs.id as hs_id, hs.reason as hs_reason, hs.created_by as hs_by,
             cs.id as cs_id, cs.reason as cs_reason, cs.created_by as cs_by,
             -- What the finding is now: the hit's view of it, except that a detection without newer evidence keeps what it recorded.
             h.resource_key is not null and (${p.kind} = ${STATE} or o.id is null or ${newer(p.dayFacts)}) as use_hit,
             coalesce(${p.retireAll}::text, (${JSON.stringify(p.retired)}::jsonb) ->> o.resource_key,
                      case when a.id is not null then 'account ' || a.id || ' ' || coalesce(nullif(regexp_replace(a.deleted_reason, '^\\s+|\\s+$', '', 'g'), ''), 'deleted') end,
                      case when ${p.kind} = ${STATE} then ${REASONS.gone} end) as gone_reason
      from h
      full join o on o.resource_key = h.resource_key
      left join ${coveredBy(sql`h.resource_key`, p.suppressions.length > 0)} hs on true
      left join ${coveredBy(sql`case when h.resource_key is null and o.status = 'open' then o.resource_key end`, p.suppressions.length > 0)} cs on true
      left join accounts a on a.id = o.account_id and a.deleted_at is not null and h.resource_key is null and o.status = 'open'
      where h.resource_key is not null or o.status = 'open'
    )
    select b.branch, j.ord, j.o_id as id, coalesce(j.h_key, j.o_key) as resource_key,
           coalesce(j.o_fingerprint, ${newFingerprint(p.ruleId, sql`j.h_key`)}) as fingerprint,
           c.resource_type, c.resource_name, c.account_id, c.severity, c.facts, c.input_hash, c.last_event_at,
           n.status, m.suppressed, m.suppression_id, m.resolved, n.reason, n.resolved_by, n.resolution_note, m.seen,
           case b.branch when 'open' then 0 when 'reopen' then j.o_reopened + 1 else j.o_reopened end as reopened_count,
           ${FIRST_EVENT} as e1, ${SECOND_EVENT} as e2
    from j
    cross join lateral (select ${BRANCH} as branch) b
    cross join lateral (select
      case when j.use_hit then j.h_type else j.o_type end as resource_type,
      case when j.use_hit then j.h_name else j.o_name end as resource_name,
      case when j.use_hit then j.h_account else j.o_account end as account_id,
      case when j.use_hit then j.h_severity else j.o_severity end as severity,
      case when j.use_hit then coalesce(j.h_facts, j.o_facts) else j.o_facts end as facts,
      case when j.use_hit then j.h_input_hash else j.o_input_hash end as input_hash,
      case when j.use_hit then j.h_last_event_at else j.o_last_event_at end as last_event_at
    ) c
    cross join lateral (select
      b.branch in ('suppress', 'resolve', 'covered') or (b.branch = 'open' and j.kind <> ${STATE} and j.hs_id is not null) as resolved,
      case when b.branch in ('touch', 'resolve') then j.o_suppressed when b.branch = 'covered' then true else j.hs_id is not null end as suppressed,
      case when b.branch in ('touch', 'resolve') then j.o_suppression_id when b.branch = 'covered' then j.cs_id else j.hs_id end as suppression_id,
      -- A detection's last_seen_at moves with newer evidence only (plan.ts).
      b.branch not in ('resolve', 'covered') and (j.kind = ${STATE} or b.branch not in ('change', 'touch') or j.newer) as seen
    ) m
    -- A resolution records why, by whom and with what note: a suppression's author and reason, or the reason the finding is gone.
    cross join lateral (select
      case when m.resolved then 'resolved' when b.branch in ('quiet', 'touch') then j.o_status else 'open' end as status,
      case when not m.resolved then null when b.branch = 'resolve' then j.gone_reason else ${REASONS.suppressed} end as reason,
      case when not m.resolved then null when b.branch = 'covered' then j.cs_by when b.branch <> 'resolve' then j.hs_by end as resolved_by,
      case when not m.resolved then null when b.branch = 'covered' then j.cs_reason when b.branch <> 'resolve' then j.hs_reason end as resolution_note
    ) n
    where b.branch is not null`;
}
