import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { findings, type Finding } from '../schema/index.js';
import { SEVERITIES, type Severity } from '../../rules/types.js';

export interface FindingFilter {
  /** At or above this severity. */
  severity?: Severity;
  ruleId?: string;
  status?: 'open' | 'resolved' | 'all';
  /** Leave out suppressed findings. */
  unsuppressedOnly?: boolean;
  ruleIds?: string[];
}

const atOrAbove = (s: Severity) => SEVERITIES.slice(SEVERITIES.indexOf(s));

function where(f: FindingFilter): SQL | undefined {
  const conds: SQL[] = [];
  if (f.severity) conds.push(inArray(findings.severity, atOrAbove(f.severity)));
  if (f.ruleId) conds.push(eq(findings.ruleId, f.ruleId));
  if (f.ruleIds) conds.push(f.ruleIds.length ? inArray(findings.ruleId, f.ruleIds) : sql`false`);
  if (f.status && f.status !== 'all') conds.push(eq(findings.status, f.status));
  if (f.unsuppressedOnly) conds.push(eq(findings.suppressed, false));
  return conds.length ? and(...conds) : undefined;
}

// Most severe first: the rank is the position in SEVERITIES.
const severityRank = sql`array_position(array['info','low','medium','high','critical']::text[], ${findings.severity})`;

export async function listFindings(tx: Tx, filter: FindingFilter): Promise<Finding[]> {
  return tx.select().from(findings).where(where(filter)).orderBy(desc(severityRank), asc(findings.ruleId), asc(findings.resourceKey));
}

export async function countFindings(tx: Tx, filter: FindingFilter): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(findings).where(where(filter));
  return row?.n ?? 0;
}
