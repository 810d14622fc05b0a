import type { Query } from './params.js';

export interface SimLogEntry { method: string; path: string; route: string; query: Query; status: number; at: number }
export interface SimStats {
  total: number;
  byRoute: Record<string, number>;
  byStatus: Record<number, number>;
  log: SimLogEntry[];
  count(route: string): number;
  reset(): void;
}

const LOG_LIMIT = 10_000;

export function createStats(): SimStats {
  const stats: SimStats = {
    total: 0, byRoute: {}, byStatus: {}, log: [],
    count: (route) => stats.byRoute[route] ?? 0,
    reset: () => { stats.total = 0; stats.byRoute = {}; stats.byStatus = {}; stats.log = []; },
  };
  return stats;
}

export function record(stats: SimStats, entry: SimLogEntry): void {
  stats.total++;
  stats.byRoute[entry.route] = (stats.byRoute[entry.route] ?? 0) + 1;
  stats.byStatus[entry.status] = (stats.byStatus[entry.status] ?? 0) + 1;
  stats.log.push(entry);
  // Bounded: keeps at least the last 10,000; trims in one go so pushes stay amortised O(1).
  if (stats.log.length > 2 * LOG_LIMIT) stats.log = stats.log.slice(-LOG_LIMIT);
}
