// The metrics every job may count into, as a type alone: the context names it without loading
// the metrics module (which reads the budget queries, and so the sync catalog).
import type { Counter, Histogram, Registry } from 'prom-client';

/** Everything the daemon exports on /metrics. One instance per process (no global registry). */
export interface Metrics {
  registry: Registry;
  apiRequests: Counter<'credential' | 'endpoint' | 'status'>;
  entriesArchived: Counter<'stream'>;
  syncDuration: Histogram<'kind' | 'status'>;
  jobs: Counter<'queue' | 'job' | 'outcome'>;
  /** Deliveries the alerts stage settled as sent (a digest counts each alert in it), by sink. */
  alertsSent: Counter<'sink'>;
  /** Sends that failed (retried later, or dead), by sink. */
  alertsFailed: Counter<'sink'>;
}
