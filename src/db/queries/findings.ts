import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { findings } from '../schema/index.js';
import type { ExistingFinding, FindingWrite, PlannedEvent } from '../../findings/plan.js';

// The lifecycle writes, set-based: each statement takes a batch as one jsonb parameter
// (jsonb_to_recordset), so a rule with 100k hits costs a few statements, not 100k.

const BATCH = 5000;
const batches = <T>(rows: T[]) => Array.from({ length: Math.ceil(rows.length / BATCH) }, (_, i) => rows.slice(i * BATCH, (i + 1) * BATCH));

/** Serialises writers of one rule's findings (two check runs at once never interleave). */
export async function lockRuleFindings(tx: Tx, ruleId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`flarewatch:findings:${ruleId}`}))`);
}

export async function ruleFindings(tx: Tx, ruleId: string): Promise<ExistingFinding[]> {
  const rows = await tx
    .select({
      id: findings.id,
      fingerprint: findings.fingerprint,
      resourceKey: findings.resourceKey,
      resourceType: findings.resourceType,
      resourceName: findings.resourceName,
      accountId: findings.accountId,
      status: findings.status,
      severity: findings.severity,
      suppressed: findings.suppressed,
      suppressionId: findings.suppressionId,
      facts: findings.facts,
      reopenedCount: findings.reopenedCount,
      lastEventAt: findings.lastEventAt,
    })
    .from(findings)
    .where(eq(findings.ruleId, ruleId));
  return rows.map((r) => ({ ...r, facts: r.facts as Record<string, unknown>, lastEventAt: r.lastEventAt?.toISOString() ?? null }));
}

/**
 * Deleted accounts among `ids`, with the sync layer's reason where it records one. The
 * reason column may not exist yet (it arrives with the sync layer): read through to_jsonb.
 */
export async function deletedAccounts(tx: Tx, ids: string[]): Promise<Map<string, string | null>> {
  if (!ids.length) return new Map();
  const res = await tx.execute<{ id: string; reason: string | null }>(sql`
    select a.id, to_jsonb(a) ->> 'deleted_reason' as reason from accounts a
    where a.id = any(${sql.param(ids)}::text[]) and a.deleted_at is not null`);
  return new Map(res.rows.map((r) => [r.id, r.reason]));
}

const record = (w: FindingWrite) => ({
  id: w.id ?? null,
  fingerprint: w.fingerprint,
  kind: w.kind,
  resource_key: w.resourceKey,
  resource_type: w.resourceType,
  resource_name: w.resourceName,
  account_id: w.accountId,
  severity: w.severity,
  status: w.status,
  suppressed: w.suppressed,
  suppression_id: w.suppressionId,
  facts: w.facts,
  seen: w.seen,
  resolved: w.resolved,
  reopened_count: w.reopenedCount,
  changed: w.changed,
  last_event_at: w.lastEventAt,
  resolution_reason: w.resolution?.reason ?? null,
  resolved_by: w.resolution?.by ?? null,
  resolution_note: w.resolution?.note ?? null,
});

const RECORD_TYPE = sql.raw(
  `id bigint, fingerprint text, kind text, resource_key text, resource_type text, resource_name text, account_id text, severity text, status text,
   suppressed boolean, suppression_id bigint, facts jsonb, seen boolean, resolved boolean, reopened_count int, changed boolean,
   last_event_at timestamptz, resolution_reason text, resolved_by text, resolution_note text`,
);

/** Insert new findings; returns fingerprint → id. */
export async function insertFindings(tx: Tx, ruleId: string, title: string, rows: FindingWrite[], now: Date): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const chunk of batches(rows)) {
    const res = await tx.execute<{ id: string; fingerprint: string }>(sql`
      insert into findings (fingerprint, rule_id, kind, resource_key, resource_type, resource_name, account_id, severity, status,
                            suppressed, suppression_id, title, facts, first_seen_at, last_seen_at, updated_at, last_event_at,
                            resolved_at, resolution_reason, resolved_by, resolution_note)
      select x.fingerprint, ${ruleId}, x.kind, x.resource_key, x.resource_type, x.resource_name, x.account_id, x.severity, x.status,
             x.suppressed, x.suppression_id, ${title}, x.facts, ${now}, ${now}, ${now}, x.last_event_at,
             case when x.resolved then ${now}::timestamptz end, x.resolution_reason, x.resolved_by, x.resolution_note
      from jsonb_to_recordset(${JSON.stringify(chunk.map(record))}::jsonb) as x(${RECORD_TYPE})
      returning id, fingerprint`);
    for (const r of res.rows) ids.set(r.fingerprint, Number(r.id));
  }
  return ids;
}

/**
 * Write the new state of existing findings (refreshed, reopened or resolved). The resolution
 * columns are set by the write that resolves, cleared by one that (re)opens, and kept otherwise.
 */
export async function updateFindings(tx: Tx, title: string, rows: FindingWrite[], now: Date): Promise<void> {
  for (const chunk of batches(rows)) {
    await tx.execute(sql`
      update findings f set
        kind = x.kind, resource_type = x.resource_type, resource_name = x.resource_name, account_id = x.account_id, last_event_at = x.last_event_at,
        resolution_reason = case when x.resolved then x.resolution_reason when x.status = 'open' then null else f.resolution_reason end,
        resolved_by = case when x.resolved then x.resolved_by when x.status = 'open' then null else f.resolved_by end,
        resolution_note = case when x.resolved then x.resolution_note when x.status = 'open' then null else f.resolution_note end,
        severity = x.severity, status = x.status, suppressed = x.suppressed, suppression_id = x.suppression_id,
        facts = x.facts, title = ${title}, reopened_count = x.reopened_count,
        last_seen_at = case when x.seen then ${now}::timestamptz else f.last_seen_at end,
        resolved_at = case when x.resolved then ${now}::timestamptz when x.status = 'open' then null else f.resolved_at end,
        updated_at = case when x.changed then ${now}::timestamptz else f.updated_at end
      from jsonb_to_recordset(${JSON.stringify(chunk.map(record))}::jsonb) as x(${RECORD_TYPE})
      where f.id = x.id`);
  }
}

/** Findings seen again with nothing changed: only last_seen_at (and the rule's current title) move. */
export async function touchFindings(tx: Tx, title: string, ids: number[], now: Date): Promise<void> {
  for (const chunk of batches(ids)) {
    await tx.execute(sql`update findings set last_seen_at = ${now}, title = ${title} where id = any(${`{${chunk.join(',')}}`}::bigint[])`);
  }
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
    update findings set status = 'resolved', resolved_at = ${now}, updated_at = ${now},
      resolution_reason = ${resolution.reason}, resolved_by = ${resolution.by}, resolution_note = ${resolution.note}
    where id = ${id}`);
}
