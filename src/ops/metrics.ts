import { sql } from 'drizzle-orm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestLimiter } from '../cloudflare/rate-limit.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { registerBudgetMetrics } from './budget-metrics.js';
import { verifySummaries } from '../db/queries/audit-verifications.js';
import type { Metrics } from './metric-set.js';

export type { Metrics } from './metric-set.js';

export interface MetricSources {
  db: Db;
  /** Job counts by queue and state (waiting, active, delayed, failed, ...). */
  queueDepths?: () => Promise<Record<string, Record<string, number>>>;
  /** The rate limiters in use, by what Cloudflare counts against (user:<id>, account-token:<id>). */
  limiters?: Map<string, RequestLimiter>;
  /** Each queue: paused or not (ops/queue-state.ts). */
  queuePaused?: () => Promise<Record<string, boolean>>;
  /** For the budget plan's gauges (their maximum staleness settings). */
  config?: Config;
}

/** Stream kind without the account id, so labels stay few. */
export const streamKind = (stream: string) => stream.split(':', 1)[0]!;

/** `/accounts/<32 hex>/tokens` → `/accounts/:id/tokens`: one label per endpoint, not per object. */
export function endpointLabel(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url;
  }
  path = path.replace(/^\/client\/v4/, '');
  return path
    .split('/')
    .map((seg) => (/^[0-9a-f]{32}$/i.test(seg) || /^\d+$/.test(seg) ? ':id' : seg))
    .join('/');
}

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_seconds, ...: read at each scrape.
  collectDefaultMetrics({ register: registry });
  const reg = [registry];
  const m: Metrics = {
    registry,
    apiRequests: new Counter({ name: 'flarewatch_api_requests_total', help: 'Cloudflare API requests (every HTTP attempt), by credential', labelNames: ['credential', 'endpoint', 'status'], registers: reg }),
    entriesArchived: new Counter({ name: 'flarewatch_entries_archived_total', help: 'Rows written by sync jobs, by stream kind', labelNames: ['stream'], registers: reg }),
    syncDuration: new Histogram({
      name: 'flarewatch_sync_duration_seconds', help: 'Duration of a stream walk', labelNames: ['kind', 'status'], registers: reg,
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    }),
    jobs: new Counter({ name: 'flarewatch_jobs_total', help: 'Jobs processed by this worker', labelNames: ['queue', 'job', 'outcome'], registers: reg }),
    alertsSent: new Counter({ name: 'flarewatch_alerts_sent_total', help: 'Alerts delivered, by sink', labelNames: ['sink'], registers: reg }),
    alertsFailed: new Counter({ name: 'flarewatch_alerts_failed_total', help: 'Alert deliveries that failed, by sink', labelNames: ['sink'], registers: reg }),
  };
  // The limiters' own cumulative statistics, read at scrape time (one series per limit, not per request).
  const fromLimiters = (pick: (l: RequestLimiter) => number) =>
    function (this: Counter<'limit'>) {
      this.reset();
      for (const [limit, l] of sources.limiters ?? []) this.inc({ limit }, pick(l));
    };
  new Counter({ name: 'flarewatch_rate_limit_waits_total', help: 'Requests that waited for their rate limiter', labelNames: ['limit'], registers: reg, collect: fromLimiters((l) => l.stats.waits) });
  new Counter({ name: 'flarewatch_rate_limit_wait_seconds_total', help: 'Time requests spent waiting for their rate limiter', labelNames: ['limit'], registers: reg, collect: fromLimiters((l) => l.stats.waitedMs / 1000) });
  new Counter({ name: 'flarewatch_rate_limit_pauses_total', help: 'Pauses after a 429 with Retry-After', labelNames: ['limit'], registers: reg, collect: fromLimiters((l) => l.stats.pauses) });
  new Gauge({
    name: 'flarewatch_sync_failing', help: '1 while a stream\'s last walk failed (its last error is newer than its last success)', labelNames: ['stream'], registers: reg,
    async collect() {
      this.reset();
      for (const row of await streamLags(sources.db)) this.set({ stream: row.stream }, row.failing ? 1 : 0);
    },
  });
  new Gauge({
    name: 'flarewatch_deletions_held', help: 'Deletions the mass-deletion guard is holding back, by stream', labelNames: ['stream'], registers: reg,
    async collect() {
      this.reset();
      for (const row of await heldDeletions(sources.db)) this.set({ stream: row.stream }, row.held);
    },
  });
  for (const [name, help, pick] of [
    ['flarewatch_credential_valid', '1 when the credential\'s last verification succeeded', (c: CredentialHealth) => (c.valid ? 1 : 0)],
    ['flarewatch_credential_expiry_timestamp_seconds', 'When the credential\'s own token expires (absent: never)', (c: CredentialHealth) => c.expiresAt],
  ] as const) {
    new Gauge({
      name, help, labelNames: ['credential'], registers: reg,
      async collect() {
        this.reset();
        for (const c of await credentialHealth(sources.db)) {
          const v = pick(c);
          if (v !== null) this.set({ credential: c.name }, v);
        }
      },
    });
  }
  new Gauge({
    name: 'flarewatch_alert_deliveries_dead', help: 'Alert deliveries that ran out of attempts (dead), by sink', labelNames: ['sink'], registers: reg,
    async collect() {
      this.reset();
      const res = await sources.db.execute<{ sink: string; n: number }>(sql`select sink, count(*)::int as n from alert_deliveries where status = 'dead' group by sink`);
      for (const r of res.rows) this.set({ sink: r.sink }, r.n);
    },
  });
  new Gauge({
    name: 'flarewatch_audit_verified_through_timestamp_seconds', help: 'End of the last day up to which `audit verify` proved the archive complete, by audit stream', labelNames: ['stream'], registers: reg,
    async collect() {
      this.reset();
      for (const s of await verifySummaries(sources.db)) if (s.verifiedThrough) this.set({ stream: s.stream }, (Date.parse(`${s.verifiedThrough}T00:00:00Z`) + 86_400_000) / 1000);
    },
  });
  new Gauge({
    name: 'flarewatch_audit_verify_gaps', help: 'Days `audit verify` found entries Cloudflare holds that the archive lacks, not yet repaired', labelNames: ['stream'], registers: reg,
    async collect() {
      this.reset();
      for (const s of await verifySummaries(sources.db)) this.set({ stream: s.stream }, s.gaps);
    },
  });
  if (sources.config) registerBudgetMetrics(reg[0]!, sources.db, sources.config);
  new Gauge({
    name: 'flarewatch_sync_lag_seconds', help: 'Now minus the audit watermark (audit streams) or the last success (others)', labelNames: ['stream'], registers: reg,
    async collect() {
      this.reset();
      for (const row of await streamLags(sources.db)) if (row.lagSeconds !== null) this.set({ stream: row.stream }, row.lagSeconds);
    },
  });
  new Gauge({
    name: 'flarewatch_findings_open', help: 'Open findings by severity', labelNames: ['severity'], registers: reg,
    async collect() {
      this.reset();
      for (const [severity, n] of Object.entries(await openFindings(sources.db))) this.set({ severity }, n);
    },
  });
  new Gauge({
    name: 'flarewatch_queue_jobs', help: 'Jobs in each queue by state', labelNames: ['queue', 'state'], registers: reg,
    async collect() {
      this.reset();
      // Redis away (restart): leave the depths out rather than hold the scrape until it is back.
      const depths: Record<string, Record<string, number>> = (await withTimeout(sources.queueDepths?.(), 2_000).catch(() => ({}))) ?? {};
      for (const [queue, states] of Object.entries(depths)) for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
    },
  });
  new Gauge({
    name: 'flarewatch_queue_paused', help: '1 while a queue is paused (kept in Redis: nothing runs, and nothing fails either)', labelNames: ['queue'], registers: reg,
    async collect() {
      this.reset();
      const paused = (await withTimeout(sources.queuePaused?.(), 2_000).catch(() => undefined)) ?? {};
      for (const [queue, p] of Object.entries(paused)) this.set({ queue }, p ? 1 : 0);
    },
  });
  return m;
}

const withTimeout = <T>(p: Promise<T> | undefined, ms: number): Promise<T | undefined> =>
  p === undefined
    ? Promise.resolve(undefined)
    : Promise.race([p, new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`no answer within ${ms} ms`)), ms).unref())]);

export interface StreamLag {
  stream: string;
  checkpoint: unknown;
  watermark: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** The last error is newer than the last success (true), or a later walk succeeded since (false: recovered). */
  failing: boolean;
  lagSeconds: number | null;
}

/** Each stream's lag: now − watermark for audit streams, now − last success otherwise. */
export async function streamLags(db: Db): Promise<StreamLag[]> {
  const res = await db.execute<{
    stream: string; checkpoint: unknown; watermark: string | null; last_success_at: string | null; last_error: string | null;
    last_error_at: string | null; failing: boolean; lag: number | null;
  }>(sql`
    select stream, checkpoint, checkpoint->>'watermark' as watermark,
           to_char(last_success_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last_success_at,
           last_error, to_char(last_error_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last_error_at,
           (last_error_at is not null and (last_success_at is null or last_error_at > last_success_at)) as failing,
           extract(epoch from now() - case when stream like '%audit%' then (checkpoint->>'watermark')::timestamptz
                                           else last_success_at end)::float8 as lag
      from sync_state order by stream`);
  return res.rows.map((r) => ({
    stream: r.stream, checkpoint: r.checkpoint, watermark: r.watermark, lastSuccessAt: r.last_success_at,
    lastError: r.last_error, lastErrorAt: r.last_error_at, failing: r.failing === true, lagSeconds: r.lag === null ? null : Number(r.lag),
  }));
}

/** Open findings by severity; empty until the findings table exists (rules stage). */
async function openFindings(db: Db): Promise<Record<string, number>> {
  const exists = await db.execute<{ t: string | null }>(sql`select to_regclass('public.findings')::text as t`);
  if (!exists.rows[0]?.t) return {};
  try {
    const res = await db.execute<{ severity: string; n: number }>(
      sql`select severity::text as severity, count(*)::int as n from findings where status = 'open' group by 1`,
    );
    return Object.fromEntries(res.rows.map((r) => [r.severity, r.n]));
  } catch {
    return {};
  }
}

interface CredentialHealth {
  name: string;
  valid: boolean;
  expiresAt: number | null;
}

async function credentialHealth(db: Db): Promise<CredentialHealth[]> {
  const res = await db.execute<{ name: string; status: string; expires: number | null }>(
    sql`select name, status, extract(epoch from expires_on)::float8 as expires from credentials order by name`,
  );
  return res.rows.map((r) => ({ name: r.name, valid: r.status === 'active', expiresAt: r.expires === null ? null : Number(r.expires) }));
}

async function heldDeletions(db: Db): Promise<Array<{ stream: string; held: number }>> {
  const res = await db.execute<{ stream: string; held: number }>(
    sql`select stream, coalesce(jsonb_array_length(held_deletions -> 'ids'), 0)::int as held from sync_state where held_deletions is not null`,
  );
  return res.rows;
}

/** A fetch that counts every attempt by credential, endpoint and status (network failures as "network"). */
export function countedFetch(metrics: Metrics, inner: typeof fetch, credential = ''): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const endpoint = endpointLabel(url);
    try {
      const res = await inner(input, init);
      metrics.apiRequests.inc({ credential, endpoint, status: String(res.status) });
      return res;
    } catch (err) {
      metrics.apiRequests.inc({ credential, endpoint, status: 'network' });
      throw err;
    }
  };
}
