/**
 * The order a round's sync jobs are enqueued in. Workers take jobs first in, first out, and a walk
 * holds its worker slot while it waits for its budget's limiter. In the planner's order (accounts
 * one after another, and a credential's accounts together) a run of one budget's jobs filled every
 * slot with walks waiting for that budget, while other budgets, with requests to spare, had their
 * jobs queued behind them: the round took 1.6× its busiest budget's requests over its rate (the
 * round bench's profile: that wait was three quarters of the busiest budget's idle time).
 *
 * Interleaved instead at each budget's rate: a stream is placed at the time its budget could send
 * its first request if every earlier stream of that budget went at the budget's rate, so jobs
 * arrive at the workers in the proportion the budgets can serve them. Within a budget the order is
 * kept (the plan's: audit streams first).
 */

export interface OrderedStream {
  stream: string;
  budget: string;
  /** Requests the stream is expected to send (its last complete walk's). */
  cost: number;
}

/**
 * Streams in the order to enqueue them. `ratePerSecond`: each budget's rate (undefined or null: no
 * limit configured, then the fastest rate of the others, so it is neither starved nor served first).
 */
export function interleaveByBudget(streams: OrderedStream[], ratePerSecond: Map<string, number | null | undefined>): string[] {
  const known = [...ratePerSecond.values()].filter((r): r is number => typeof r === 'number' && r > 0);
  const fallback = known.length ? Math.max(...known) : 1;
  const spent = new Map<string, number>();
  const budgetRank = new Map<string, number>();
  const keyed = streams.map((s, index) => {
    const before = spent.get(s.budget) ?? 0;
    spent.set(s.budget, before + Math.max(1, s.cost));
    if (!budgetRank.has(s.budget)) budgetRank.set(s.budget, budgetRank.size);
    const rate = ratePerSecond.get(s.budget);
    return { stream: s.stream, at: before / (typeof rate === 'number' && rate > 0 ? rate : fallback), rank: budgetRank.get(s.budget)!, index };
  });
  keyed.sort((a, b) => a.at - b.at || a.rank - b.rank || a.index - b.index);
  return keyed.map((k) => k.stream);
}
