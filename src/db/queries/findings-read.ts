import { and, asc, desc, eq, getTableColumns, inArray, sql, type SQL } from 'drizzle-orm';
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
  kind?: 'state' | 'detection';
}

const atOrAbove = (s: Severity) => SEVERITIES.slice(SEVERITIES.indexOf(s));

function where(f: FindingFilter): SQL | undefined {
  const conds: SQL[] = [];
  if (f.severity) conds.push(inArray(findings.severity, atOrAbove(f.severity)));
  if (f.ruleId) conds.push(eq(findings.ruleId, f.ruleId));
  if (f.ruleIds) conds.push(f.ruleIds.length ? inArray(findings.ruleId, f.ruleIds) : sql`false`);
  if (f.status && f.status !== 'all') conds.push(eq(findings.status, f.status));
  if (f.unsuppressedOnly) conds.push(eq(findings.suppressed, false));
  if (f.kind) conds.push(eq(findings.kind, f.kind));
  return conds.length ? and(...conds) : undefined;
}

// Most severe first: the rank is the position in SEVERITIES.
const severityRank = sql`array_position(array['info','low','medium','high','critical']::text[], ${findings.severity})`;

/**
 * A finding's columns, with `lastSeenAt` as finding_last_seen() gives it (migration 0013): an open
 * state finding is not rewritten by a check that returns it unchanged, its rule's last check saw it.
 */
const { inputHash: _inputHash, facts: _storedFacts, ...STORED } = getTableColumns(findings);
/**
 * Every column a reader is shown: the input hash is the check run's bookkeeping, and the facts are
 * finding_facts() (migration 0030): day counts counted now, not on the day the row was written.
 */
export const FINDING_COLUMNS = { ...STORED, facts: sql<Finding['facts']>`finding_facts(${findings})`.mapWith(findings.facts) };
const FINDING = { ...FINDING_COLUMNS, lastSeenAt: sql<Date>`finding_last_seen(${findings})`.mapWith(findings.lastSeenAt) };

export async function listFindings(tx: Tx, filter: FindingFilter): Promise<Finding[]> {
  return tx.select(FINDING).from(findings).where(where(filter)).orderBy(asc(findings.kind), desc(severityRank), asc(findings.ruleId), asc(findings.resourceKey));
}

/** One finding; `lock`: for update (inside a transaction, after its rule's findings lock, as check runs take them). */
export async function findingById(tx: Tx, id: number, lock = false): Promise<Finding | undefined> {
  const q = tx.select(FINDING).from(findings).where(eq(findings.id, id));
  const [row] = lock ? await q.for('update') : await q;
  return row;
}

/** Sinks the latest resolution of a finding was queued for. */
export async function resolutionSinks(tx: Tx, findingId: number): Promise<string[]> {
  const res = await tx.execute<{ sink: string }>(sql`
    select d.sink from alert_deliveries d
    where d.alert_id = (select a.id from alerts a where a.finding_id = ${findingId} and a.kind = 'resolved' order by a.seq desc limit 1)
    order by d.sink`);
  return res.rows.map((r) => r.sink);
}

export async function countFindings(tx: Tx, filter: FindingFilter): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(findings).where(where(filter));
  return row?.n ?? 0;
}
