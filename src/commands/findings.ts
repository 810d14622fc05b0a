import type { Context } from '../context.js';
import { type FindingFilter, listFindings } from '../db/queries/findings-read.js';
import type { Finding } from '../db/schema/index.js';
import { formatTable, isoOrEmpty, safeText, toCsv } from './findings-format.js';

export type FindingsFormat = 'table' | 'json' | 'csv';

const COLUMNS = ['id', 'severity', 'status', 'suppressed', 'rule_id', 'resource_type', 'resource_key', 'resource_name', 'account_id', 'title', 'first_seen_at', 'last_seen_at', 'resolved_at', 'facts'] as const;

const asRecord = (f: Finding) => ({
  id: f.id,
  severity: f.severity,
  status: f.status,
  suppressed: f.suppressed,
  suppression_id: f.suppressionId,
  rule_id: f.ruleId,
  resource_type: f.resourceType,
  resource_key: f.resourceKey,
  resource_name: f.resourceName,
  account_id: f.accountId,
  title: f.title,
  fingerprint: f.fingerprint,
  first_seen_at: f.firstSeenAt,
  last_seen_at: f.lastSeenAt,
  resolved_at: f.resolvedAt,
  reopened_count: f.reopenedCount,
  facts: f.facts,
});

/** Findings as machine output (JSON array, CSV with a header) or a table for people. */
export function formatFindings(rows: Finding[], format: FindingsFormat): string {
  if (format === 'json') return JSON.stringify(rows.map(asRecord), null, 2);
  if (format === 'csv') return toCsv([...COLUMNS], rows.map((f) => COLUMNS.map((c) => asRecord(f)[c])));
  if (rows.length === 0) return 'no findings';
  return formatTable(
    ['severity', 'status', 'rule', 'resource', 'name', 'last seen'],
    rows.map((f) => [
      f.severity,
      f.status + (f.suppressed ? ' (suppressed)' : ''),
      f.ruleId,
      safeText(f.resourceKey),
      safeText(f.resourceName).slice(0, 60),
      isoOrEmpty(f.lastSeenAt),
    ]),
  );
}

export async function findingsCommand(ctx: Context, filter: FindingFilter, format: FindingsFormat): Promise<string> {
  return formatFindings(await listFindings(ctx.db, { status: 'open', ...filter }), format);
}
