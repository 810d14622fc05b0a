import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { checkRuns, type CheckRun } from '../schema/index.js';

export async function startCheckRun(tx: Tx, now: Date): Promise<number> {
  const [row] = await tx.insert(checkRuns).values({ startedAt: now }).returning({ id: checkRuns.id });
  return row!.id;
}

export type CheckRunTotals = Pick<CheckRun, 'rulesRun' | 'rulesFailed' | 'rulesSkipped' | 'findingsOpened' | 'findingsResolved' | 'findingsOpen'>;

export async function finishCheckRun(
  tx: Tx,
  id: number,
  totals: CheckRunTotals & { errors: Array<{ rule: string; error: string }> },
  now: Date,
): Promise<void> {
  const { errors, ...counts } = totals;
  await tx
    .update(checkRuns)
    .set({
      ...counts,
      finishedAt: now,
      status: errors.length ? 'failed' : 'succeeded',
      errors: errors.length ? errors : null,
      errorSummary: errors.length ? errors.map((e) => `${e.rule}: ${e.error}`).join('; ').slice(0, 2000) : null,
    })
    .where(eq(checkRuns.id, id));
}

/** Open findings per rule (suppressed ones apart), for the summary of a run. */
export async function openCountsByRule(tx: Tx): Promise<Map<string, { open: number; suppressed: number }>> {
  const res = await tx.execute<{ rule_id: string; open: string; suppressed: string }>(sql`
    select rule_id, count(*) filter (where not suppressed) as open, count(*) filter (where suppressed) as suppressed
    from findings where status = 'open' group by rule_id`);
  return new Map(res.rows.map((r) => [r.rule_id, { open: Number(r.open), suppressed: Number(r.suppressed) }]));
}

/** Whether the audit archive holds anything (rules that need it are skipped otherwise). */
export async function auditLogsPresent(tx: Tx): Promise<boolean> {
  const res = await tx.execute<{ present: boolean }>(
    sql`select exists (select 1 from audit_logs) as present`,
  );
  return res.rows[0]?.present === true;
}
