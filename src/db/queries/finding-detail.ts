import { asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { FINDING_COLUMNS } from './findings-read.js';
import { findingEvents, findings, type Finding, type FindingEvent } from '../schema/index.js';

/** One finding and every transition it went through, oldest first; undefined when there is no such id. */
export async function findingWithHistory(tx: Tx, id: number): Promise<{ finding: Finding; events: FindingEvent[] } | undefined> {
  const [finding] = await tx.select(FINDING_COLUMNS).from(findings).where(eq(findings.id, id));
  if (!finding) return undefined;
  const events = await tx.select().from(findingEvents).where(eq(findingEvents.findingId, id)).orderBy(asc(findingEvents.at), asc(findingEvents.id));
  return { finding, events };
}

/** Open, unsuppressed findings per rule and severity. */
export async function openBySeverity(tx: Tx): Promise<Map<string, Record<string, number>>> {
  const res = await tx.execute<{ rule_id: string; severity: string; n: number }>(sql`
    select rule_id, severity, count(*)::int as n from findings where status = 'open' and not suppressed group by 1, 2`);
  const out = new Map<string, Record<string, number>>();
  for (const r of res.rows) out.set(r.rule_id, { ...out.get(r.rule_id), [r.severity]: Number(r.n) });
  return out;
}

/** Rule ids that have findings stored (a rule removed since still has its history). */
export async function ruleIdsWithFindings(tx: Tx): Promise<string[]> {
  const res = await tx.execute<{ rule_id: string }>(sql`select distinct rule_id from findings`);
  return res.rows.map((r) => r.rule_id);
}
