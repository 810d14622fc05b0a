import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import type { FindingKind } from '../schema/findings.js';

// What a baseline summary reports: open, unsuppressed findings, counted and the most severe few.

type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export interface OpenCount {
  ruleId: string;
  severity: Severity;
  kind: FindingKind;
  n: number;
}

export async function openFindingCounts(tx: Tx): Promise<OpenCount[]> {
  const res = await tx.execute<{ rule_id: string; severity: Severity; kind: FindingKind; n: number }>(sql`
    select rule_id, severity, kind, count(*)::int as n from findings where status = 'open' and not suppressed group by 1, 2, 3`);
  return res.rows.map((r) => ({ ruleId: r.rule_id, severity: r.severity, kind: r.kind, n: r.n }));
}

export interface OpenItem {
  ruleId: string;
  title: string;
  severity: Severity;
  kind: FindingKind;
  resourceKey: string;
  resourceName: string | null;
  accountName: string | null;
}

/** The `limit` most severe open, unsuppressed findings: state findings before detections of a severity, then newest first. */
export async function mostSevereOpen(tx: Tx, limit: number): Promise<OpenItem[]> {
  const res = await tx.execute<{ rule_id: string; title: string; severity: Severity; kind: FindingKind; resource_key: string; resource_name: string | null; account_name: string | null }>(sql`
    select f.rule_id, f.title, f.severity, f.kind, f.resource_key, f.resource_name, a.name as account_name
    from findings f left join accounts a on a.id = f.account_id
    where f.status = 'open' and not f.suppressed
    order by array_position(array['info','low','medium','high','critical']::text[], f.severity) desc, f.kind = 'detection', finding_last_seen(f) desc, f.id
    limit ${limit}`);
  return res.rows.map((r) => ({
    ruleId: r.rule_id, title: r.title, severity: r.severity, kind: r.kind, resourceKey: r.resource_key, resourceName: r.resource_name, accountName: r.account_name,
  }));
}
