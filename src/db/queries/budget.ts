import { sql } from 'drizzle-orm';
import type { Config } from '../../config.js';
import { AUDIT_KINDS } from '../../sync/catalog.js';
import { cronIntervalMs, maxStalenessOf } from '../../sync/budget-round.js';
import type { Tx } from '../client.js';

export type BudgetSummary = {
  budget: string;
  roundAt: string;
  share: number;
  capacity: number;
  planned: number;
  needed: number;
  /** Requests its credentials' walks have made since the round started (until the budget's next round). */
  used: number;
  deferred: number;
};

/** Each budget's latest planned round (budgets planned within the last day), with what its walks used so far. */
export async function budgetSummaries(tx: Tx): Promise<BudgetSummary[]> {
  const res = await tx.execute<BudgetSummary>(sql`
    select distinct on (b.budget) b.budget, b.round_at::text as "roundAt", b.share, b.capacity, b.planned, b.needed,
           coalesce((select sum(r.requests) from sync_runs r where r.credential = any(b.credentials) and r.started_at >= b.round_at), 0)::int as used,
           cardinality(b.deferred) as deferred
      from budget_rounds b
     -- A budget no round has planned for a day is gone (a rotated credential, one identified since).
     where b.round_at > (select max(round_at) from budget_rounds) - interval '1 day'
     order by b.budget, b.round_at desc`);
  return res.rows;
}

export interface StreamStaleness {
  stream: string;
  /** Seconds since its last complete walk (null: never). */
  stalenessSeconds: number | null;
  /**
   * The most it may reach: the kind's budget.maxStaleness, and never less than the interval between
   * the rounds that walk it (a kind walked every round is up to one interval old just before the next).
   */
  maxSeconds: number;
  audit: boolean;
  /** How far past its maximum a stream may be before status calls it stale: one audit round, the time a walk may take. */
  graceSeconds: number;
}

/** Every stream walked at least once, its staleness against its maximum. */
export async function streamStaleness(tx: Tx, config: Config, now: Date): Promise<StreamStaleness[]> {
  const res = await tx.execute<{ stream: string; at: string | null }>(sql`select stream, last_success_at::text as at from sync_state order by stream`);
  const audit = cronIntervalMs(config.daemon.auditSchedule, now);
  const inventory = cronIntervalMs(config.daemon.inventorySchedule, now);
  return res.rows.map((r) => {
    const isAudit = AUDIT_KINDS.includes(r.stream.split(':', 1)[0]!);
    const max = isAudit ? audit : Math.max(inventory, maxStalenessOf(config, r.stream));
    return { stream: r.stream, stalenessSeconds: r.at ? Math.max(0, (now.getTime() - Date.parse(r.at)) / 1000) : null, maxSeconds: max / 1000, audit: isAudit, graceSeconds: audit / 1000 };
  });
}
