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
    })
    .from(findings)
    .where(eq(findings.ruleId, ruleId));
  return rows.map((r) => ({ ...r, facts: r.facts as Record<string, unknown> }));
}

const record = (w: FindingWrite) => ({
  id: w.id ?? null,
  fingerprint: w.fingerprint,
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
});

const RECORD_TYPE = sql.raw(
  `id bigint, fingerprint text, resource_key text, resource_type text, resource_name text, account_id text, severity text, status text,
   suppressed boolean, suppression_id bigint, facts jsonb, seen boolean, resolved boolean, reopened_count int, changed boolean`,
);

/** Insert new findings; returns fingerprint → id. */
export async function insertFindings(tx: Tx, ruleId: string, title: string, rows: FindingWrite[], now: Date): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const chunk of batches(rows)) {
    const res = await tx.execute<{ id: string; fingerprint: string }>(sql`
      insert into findings (fingerprint, rule_id, resource_key, resource_type, resource_name, account_id, severity, status,
                            suppressed, suppression_id, title, facts, first_seen_at, last_seen_at, updated_at)
      select x.fingerprint, ${ruleId}, x.resource_key, x.resource_type, x.resource_name, x.account_id, x.severity, 'open',
             x.suppressed, x.suppression_id, ${title}, x.facts, ${now}, ${now}, ${now}
      from jsonb_to_recordset(${JSON.stringify(chunk.map(record))}::jsonb) as x(${RECORD_TYPE})
      returning id, fingerprint`);
    for (const r of res.rows) ids.set(r.fingerprint, Number(r.id));
  }
  return ids;
}

/** Write the new state of existing findings (refreshed, reopened or resolved). */
export async function updateFindings(tx: Tx, title: string, rows: FindingWrite[], now: Date): Promise<void> {
  for (const chunk of batches(rows)) {
    await tx.execute(sql`
      update findings f set
        resource_type = x.resource_type, resource_name = x.resource_name, account_id = x.account_id,
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
    const records = chunk.map((e) => ({ finding_id: e.findingId, transition: e.transition, from_severity: e.fromSeverity, to_severity: e.toSeverity, facts: e.facts }));
    await tx.execute(sql`
      insert into finding_events (finding_id, check_run_id, at, transition, from_severity, to_severity, facts)
      select x.finding_id, ${checkRunId}, ${now}, x.transition, x.from_severity, x.to_severity, x.facts
      from jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
        as x(finding_id bigint, transition text, from_severity text, to_severity text, facts jsonb)`);
  }
}
