/**
 * The budget plan: which of a round's due streams to walk when their requests do not fit the share
 * of each rate-limit budget flarewatch may use before the next round. Pure: src/sync/budget-round.ts
 * reads its inputs and records its answer.
 *
 * Per budget, in this order:
 * 1. audit streams, always (they are the data Cloudflare deletes);
 * 2. inventory streams that would pass their maximum staleness before the next round could walk
 *    them (never walked, kinds walked every round, and the starving): always, most overdue first;
 * 3. the other inventory streams by staleness / maximum staleness, highest first, while they fit.
 * What does not fit is deferred: step 2 walks it before it passes its maximum.
 */

export interface StreamDemand {
  stream: string;
  budget: string;
  audit: boolean;
  /** Requests the stream's last complete walk took: the estimate for this one. */
  cost: number;
  /** Milliseconds since its last complete walk; null when it never completed one. */
  stalenessMs: number | null;
  /** budget.maxStaleness of its kind (0: every round). */
  maxStalenessMs: number;
}

export interface BudgetDecision {
  budget: string;
  /** null: no rate limit is configured for it, so nothing is deferred. */
  capacity: number | null;
  planned: number;
  needed: number;
  streams: string[];
  deferred: string[];
}

/** How far through its allowance a stream is: what orders inventory streams (never walked: first). */
const pressure = (d: StreamDemand): number => {
  if (d.stalenessMs === null) return Infinity;
  return d.maxStalenessMs <= 0 ? Infinity : d.stalenessMs / d.maxStalenessMs;
};

/** Whether waiting for the next round (`untilNextMs` away) would take the stream past its maximum staleness. */
export const mustWalk = (d: StreamDemand, untilNextMs: number): boolean =>
  d.audit || d.stalenessMs === null || d.stalenessMs + untilNextMs > d.maxStalenessMs;

function planOne(budget: string, demands: StreamDemand[], capacity: number | null, untilNextMs: number): BudgetDecision {
  const byPressure = (a: StreamDemand, b: StreamDemand) => pressure(b) - pressure(a) || (a.stream < b.stream ? -1 : 1);
  const audit = demands.filter((d) => d.audit);
  const must = demands.filter((d) => !d.audit && mustWalk(d, untilNextMs)).sort(byPressure);
  const may = demands.filter((d) => !mustWalk(d, untilNextMs)).sort(byPressure);
  const chosen = [...audit, ...must];
  let planned = chosen.reduce((s, d) => s + d.cost, 0);
  const deferred: string[] = [];
  for (const d of may) {
    if (capacity === null || planned + d.cost <= capacity) {
      chosen.push(d);
      planned += d.cost;
    } else deferred.push(d.stream);
  }
  const needed = demands.reduce((s, d) => s + d.cost, 0);
  return { budget, capacity, planned, needed, streams: chosen.map((d) => d.stream), deferred };
}

/** One decision per budget; `capacities` holds each budget's requests for this round (null: unlimited). */
export function planBudgets(demands: StreamDemand[], capacities: Map<string, number | null>, untilNextMs: number): BudgetDecision[] {
  const budgets = [...new Set(demands.map((d) => d.budget))].sort();
  return budgets.map((b) => planOne(b, demands.filter((d) => d.budget === b), capacities.get(b) ?? null, untilNextMs));
}

/** The share after backoff: halved for each recent round whose walks met a 429, at most three times. */
export const backedOffShare = (share: number, limitedRounds: number): number => share / 2 ** Math.min(3, limitedRounds);

/**
 * Requests a round may spend on a budget: the share of the limit over the time until the same
 * streams are due again, less what the audit-only rounds in between will spend (estimated by this
 * round's audit streams).
 */
export function roundCapacity(o: { share: number; requests: number; windowMs: number; intervalMs: number; auditIntervalMs: number; auditCost: number }): number {
  const total = (o.share * o.requests * o.intervalMs) / o.windowMs;
  const auditRoundsBetween = Math.max(0, Math.round(o.intervalMs / o.auditIntervalMs) - 1);
  return Math.max(0, Math.floor(total - auditRoundsBetween * o.auditCost));
}
