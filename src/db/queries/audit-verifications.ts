import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { pgTextArray } from './text-array.js';
import { auditVerifications } from '../schema/index.js';

export type VerificationRow = typeof auditVerifications.$inferSelect;

/** Which rows of audit_logs one audit stream archives. */
export interface ArchiveFilter {
  source: 'user_v1' | 'account_v1' | 'account_v2';
  /** The account (or, for user_v1, the user) the entries belong to; null: every entry of the source. */
  accountId: string | null;
}

// Days are UTC days, given as instants: a `::date` bound is midnight in the session's time zone, and
// comparing a date with event_time is not immutable, so the planner could not prune the month
// partitions and planned every one of them for a query about one day.
export const utcMidnight = (day: string, plusDays = 0) => new Date(Date.parse(`${day}T00:00:00Z`) + plusDays * 86_400_000);

const where = (f: ArchiveFilter) => (f.accountId === null ? sql`source = ${f.source}` : sql`source = ${f.source} and account_id = ${f.accountId}`);

/** Entries archived per UTC day in [from, to) (days as YYYY-MM-DD). */
export async function archivedPerDay(tx: Tx, f: ArchiveFilter, from: string, to: string): Promise<Map<string, number>> {
  const res = await tx.execute<{ day: string; n: number }>(sql`
    select to_char(event_time at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as n
      from audit_logs where ${where(f)} and event_time >= ${utcMidnight(from)} and event_time < ${utcMidnight(to)} group by 1`);
  return new Map(res.rows.map((r) => [r.day, r.n]));
}

/** The oldest archived entry of the stream. */
export async function firstArchived(tx: Tx, f: ArchiveFilter): Promise<Date | undefined> {
  const res = await tx.execute<{ t: string | null }>(sql`select min(event_time)::text as t from audit_logs where ${where(f)}`);
  return res.rows[0]?.t ? new Date(res.rows[0].t) : undefined;
}

/** Of these ids the API serves for `day`, the ones the archive lacks; and how many the archive holds that day. */
export async function compareDay(tx: Tx, f: ArchiveFilter, day: string, apiIds: string[]): Promise<{ archived: number; missing: string[] }> {
  const inDay = sql`event_time >= ${utcMidnight(day)} and event_time < ${utcMidnight(day, 1)}`;
  const count = await tx.execute<{ n: number }>(sql`select count(*)::int as n from audit_logs where ${where(f)} and ${inDay}`);
  const missing = await tx.execute<{ id: string }>(sql`
    select x.id from unnest(${pgTextArray(apiIds)}::text[]) as x(id)
     where not exists (select 1 from audit_logs a where ${where(f)} and ${inDay} and a.id = x.id) order by 1`);
  return { archived: count.rows[0]?.n ?? 0, missing: missing.rows.map((r) => r.id) };
}

export async function saveVerification(tx: Tx, row: typeof auditVerifications.$inferInsert): Promise<void> {
  await tx
    .insert(auditVerifications)
    .values(row)
    .onConflictDoUpdate({
      target: [auditVerifications.stream, auditVerifications.day],
      set: {
        credential: row.credential, archived: row.archived, api: row.api, missing: row.missing, missingSample: row.missingSample,
        status: row.status, verifiedAt: row.verifiedAt, repairedAt: row.repairedAt ?? null,
      },
    });
}

export async function verificationsOf(tx: Tx, stream: string): Promise<VerificationRow[]> {
  return tx.select().from(auditVerifications).where(eq(auditVerifications.stream, stream)).orderBy(auditVerifications.day);
}

export async function gapDays(tx: Tx, stream: string): Promise<VerificationRow[]> {
  return tx.select().from(auditVerifications).where(and(eq(auditVerifications.stream, stream), eq(auditVerifications.status, 'gap'))).orderBy(auditVerifications.day);
}

export interface VerifySummary {
  stream: string;
  /** Every day from the first verified one up to this one was verified without an unrepaired gap. */
  verifiedThrough: string | null;
  gaps: number;
  lastGap: string | null;
}

/** Per stream: how far the archive is proven complete, and the gaps still open. */
export async function verifySummaries(tx: Tx): Promise<VerifySummary[]> {
  const res = await tx.execute<{ stream: string; days: string[]; statuses: string[] }>(sql`
    select stream, array_agg(day::text order by day) as days, array_agg(status order by day) as statuses
      from audit_verifications group by stream order by stream`);
  return res.rows.map((r) => {
    let through: string | null = null;
    for (let i = 0; i < r.days.length; i++) {
      const contiguous = i === 0 || Date.parse(r.days[i]!) - Date.parse(r.days[i - 1]!) === 86_400_000;
      if (!contiguous || r.statuses[i] === 'gap') break;
      through = r.days[i]!;
    }
    const gaps = r.days.filter((_, i) => r.statuses[i] === 'gap');
    return { stream: r.stream, verifiedThrough: through, gaps: gaps.length, lastGap: gaps.at(-1) ?? null };
  });
}
