import type { Query } from './params.js';

/** One answered request. `principal` is the caller's rate-limit bucket key, '' when it was not authenticated. */
export interface SimLogEntry { method: string; path: string; route: string; query: Query; status: number; at: number; principal: string }
export interface PrincipalStats { total: number; byStatus: Record<number, number> }
export interface SimStats {
  total: number;
  byRoute: Record<string, number>;
  byStatus: Record<number, number>;
  /** Per rate-limit bucket (`user:<id>`, `account-token:<id>`, '' unauthenticated), as Cloudflare counts them. */
  byPrincipal: Record<string, PrincipalStats>;
  log: SimLogEntry[];
  /** Every request with a method other than GET, answered or refused, by `METHOD /client/v4/path`: proof of what was written. */
  writes: Record<string, number>;
  writeTotal: number;
  count(route: string): number;
  reset(): void;
}

const LOG_LIMIT = 10_000;

export function createStats(): SimStats {
  const stats: SimStats = {
    total: 0, byRoute: {}, byStatus: {}, byPrincipal: {}, log: [], writes: {}, writeTotal: 0,
    count: (route) => stats.byRoute[route] ?? 0,
    reset: () => { stats.total = 0; stats.byRoute = {}; stats.byStatus = {}; stats.byPrincipal = {}; stats.log = []; stats.writes = {}; stats.writeTotal = 0; },
  };
  return stats;
}

export function record(stats: SimStats, entry: SimLogEntry): void {
  stats.total++;
  stats.byRoute[entry.route] = (stats.byRoute[entry.route] ?? 0) + 1;
  stats.byStatus[entry.status] = (stats.byStatus[entry.status] ?? 0) + 1;
  const p = (stats.byPrincipal[entry.principal] ??= { total: 0, byStatus: {} });
  p.total++;
  p.byStatus[entry.status] = (p.byStatus[entry.status] ?? 0) + 1;
  if (entry.method !== 'GET') {
    const key = `${entry.method} ${entry.path}`;
    stats.writes[key] = (stats.writes[key] ?? 0) + 1;
    stats.writeTotal++;
  }
  stats.log.push(entry);
  // Bounded: keeps at least the last 10,000; trims in one go so pushes stay amortised O(1).
  if (stats.log.length > 2 * LOG_LIMIT) stats.log = stats.log.slice(-LOG_LIMIT);
}
