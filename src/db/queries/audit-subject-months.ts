import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { pgTextArray } from './text-array.js';

/** What a lookup is about: token or member resource ids (the types 0029 indexes), and e-mails an entry names in an account. */
export interface AuditSubjects { ids: string[]; emails?: Array<{ accountId: string; email: string }> }

/**
 * The months (YYYY-MM-01, ascending) that hold entries about these subjects, from the month index
 * of migration 0029: a reader bounds its scan to them, so only those partitions are planned and read.
 */
export async function subjectMonths(tx: Tx, q: AuditSubjects): Promise<string[]> {
  const emails = q.emails ?? [];
  const byEmail = emails.length
    ? sql`union
      select m.month from audit_subject_email_months m
      join audit_accounts c on c.ref = m.account_ref
      join unnest(${pgTextArray(emails.map((e) => e.accountId))}::text[], ${pgTextArray(emails.map((e) => e.email.toLowerCase()))}::text[]) w(account_id, email)
        on c.key ->> 0 = w.account_id and m.subject_email = w.email`
    : sql``;
  const res = await tx.execute<{ month: string }>(sql`
    select to_char(month, 'YYYY-MM-DD') as month from (
      select month from audit_resource_months where resource_id = any(${pgTextArray(q.ids)}::text[])
      ${byEmail}
    ) x order by 1`);
  return res.rows.map((r) => r.month);
}

/**
 * `time` within one of these months, as UTC bounds the planner prunes partitions by (constants of
 * this statement, not a join it would resolve only when running). No month: false.
 */
export function withinMonths(time: SQL, months: string[]): SQL {
  if (!months.length) return sql`false`;
  return sql`(${sql.join(months.map((m) => sql`(${time} >= flarewatch_utc_month(${m}::date) and ${time} < flarewatch_utc_month(${m}::date, 1))`), sql` or `)})`;
}
