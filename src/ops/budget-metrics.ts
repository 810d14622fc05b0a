import { Gauge, type Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { budgetSummaries, streamStaleness } from '../db/queries/budget.js';

/** The budget plan's gauges: each budget's latest round (planned, used), each stream's staleness against its maximum. */
export function registerBudgetMetrics(reg: Registry, db: Db, config: Config): void {
  const registers = [reg];
  new Gauge({
    name: 'flarewatch_budget_planned_requests', help: 'Requests the latest round planned on each rate-limit budget', labelNames: ['budget'], registers,
    async collect() {
      this.reset();
      for (const b of await budgetSummaries(db)) this.set({ budget: b.budget }, b.planned);
    },
  });
  new Gauge({
    name: 'flarewatch_budget_capacity_requests', help: 'Requests the latest round could spend on each budget (budget.share after backoff)', labelNames: ['budget'], registers,
    async collect() {
      this.reset();
      for (const b of await budgetSummaries(db)) this.set({ budget: b.budget }, b.capacity);
    },
  });
  new Gauge({
    name: 'flarewatch_budget_used_requests', help: 'Requests the walks of each budget\'s credentials made since its latest round started', labelNames: ['budget'], registers,
    async collect() {
      this.reset();
      for (const b of await budgetSummaries(db)) this.set({ budget: b.budget }, b.used);
    },
  });
  const staleness = () => streamStaleness(db, config, new Date());
  new Gauge({
    name: 'flarewatch_stream_staleness_seconds', help: 'Seconds since each stream\'s last complete walk', labelNames: ['stream'], registers,
    async collect() {
      this.reset();
      for (const s of await staleness()) if (s.stalenessSeconds !== null) this.set({ stream: s.stream }, s.stalenessSeconds);
    },
  });
  new Gauge({
    name: 'flarewatch_stream_max_staleness_seconds', help: 'The most each stream\'s staleness may reach (budget.maxStaleness of its kind, at least its schedule\'s interval)', labelNames: ['stream'], registers,
    async collect() {
      this.reset();
      for (const s of await staleness()) this.set({ stream: s.stream }, s.maxSeconds);
    },
  });
}
