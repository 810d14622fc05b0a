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

/** Where data was walked for the first time: account ids, and whether a user-level stream was. */
export interface FreshScope {
  accounts: Set<string>;
  user: boolean;
}

const ACCOUNT_ID = /[0-9a-f]{32}/i;

/**
 * Streams whose first successful walk finished after the previous check run started (a
 * first start, an account newly watched): what they brought in is existing state, not news.
 * A stream is tied to the account whose id its name holds (`members:<account id>`); others are user-level.
 * Also accounts first listed since then: the daemon's round that finds an account walks its
 * streams only in the next round, so its check sees the account before any stream of its own.
 */
export async function freshScope(tx: Tx, checkRunId: number): Promise<FreshScope> {
  const res = await tx.execute<{ stream: string }>(sql`
    with prev as (
      select coalesce(max(started_at), '-infinity'::timestamptz) as at from check_runs where id <> ${checkRunId} and finished_at is not null
    )
    select s.stream from sync_state s, prev
    where s.last_success_at > prev.at
      and not exists (select 1 from sync_runs r where r.stream = s.stream and r.status = 'succeeded' and r.started_at <= prev.at)
    union all
    select a.id from accounts a, prev where a.first_seen_at > prev.at and a.deleted_at is null`);
  const scope: FreshScope = { accounts: new Set(), user: false };
  for (const { stream } of res.rows) {
    const id = ACCOUNT_ID.exec(stream)?.[0];
    if (id) scope.accounts.add(id.toLowerCase());
    else scope.user = true;
  }
  return scope;
}
