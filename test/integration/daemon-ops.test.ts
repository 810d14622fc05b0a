import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-ops tests');

// The operations server of a daemon (scheduler + workers in one instance) on a real Redis and Postgres.
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
let daemon: TestDaemon | undefined;
let port: number;

beforeAll(async () => {
  sim = await startSimulator({ seed: 29, size: { accounts: 1, accountAuditEntries: 300, accountAuditV1Entries: 60, userAuditEntries: 60, auditDays: 5 }, rateLimit: false });
  [db, redis, port] = await Promise.all([createTestDatabase(), startTestRedis(), freePort()]);
  const env = daemonEnv(db.url, sim, redis.url, { FLAREWATCH_HTTP_PORT: String(port), FLAREWATCH_AUDIT_PAGE_SIZE: '50', FLAREWATCH_RATE_LIMIT: '1200/5m' });
  daemon = await startTestDaemon(env, { scheduler: true, workers: true, concurrency: 3 });
});

afterAll(async () => {
  await daemon?.shutdown('test over');
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

const url = (path: string) => `http://127.0.0.1:${port}${path}`;
const status = async (path: string) => (await fetch(url(path)).catch(() => undefined))?.status;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, as much of it as these assertions need. */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

const pick = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const total = (samples: Sample[]) => samples.reduce((n, s) => n + s.value, 0);

describe.runIf(REDIS)('the operations server', () => {
  it('answers /healthz and /readyz, and 404 elsewhere', async () => {
    expect(await status('/healthz')).toBe(200);
    const ready = await fetch(url('/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready\n');
    expect(await status('/nope')).toBe(404);
  });

  it('exports the README metrics with values that match a small sync', async () => {
    const at = (min: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + min * 60_000);
    // Round 1: global streams and the account list; round 2: the account streams it found.
    await daemon!.scheduler!.tick(at(0));
    await waitIdle(redis.url, 60_000);
    await daemon!.scheduler!.tick(at(5));
    await waitIdle(redis.url, 60_000);

    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const { samples, types } = parseMetrics(await res.text());

    // Every metric the README lists is declared.
    for (const [name, type] of Object.entries({
      flarewatch_api_requests_total: 'counter', flarewatch_rate_limit_waits_total: 'counter', flarewatch_rate_limit_wait_seconds_total: 'counter',
      flarewatch_entries_archived_total: 'counter', flarewatch_sync_duration_seconds: 'histogram', flarewatch_sync_lag_seconds: 'gauge',
      flarewatch_findings_open: 'gauge', flarewatch_alerts_sent_total: 'counter', flarewatch_alerts_failed_total: 'counter',
      flarewatch_jobs_total: 'counter', flarewatch_queue_jobs: 'gauge',
      flarewatch_budget_planned_requests: 'gauge', flarewatch_budget_capacity_requests: 'gauge', flarewatch_budget_used_requests: 'gauge',
      flarewatch_stream_staleness_seconds: 'gauge', flarewatch_stream_max_staleness_seconds: 'gauge',
    })) expect(types.get(name), name).toBe(type);
    // The scheduler's budget plan recorded its rounds: one budget, with what it planned. (What it used counts walks
    // started since the round's tick: these ticks are in 2030, the walks now, so the budget-plan test checks that.)
    expect(pick(samples, 'flarewatch_budget_planned_requests').length).toBe(1);
    expect(pick(samples, 'flarewatch_budget_planned_requests')[0]!.value).toBeGreaterThan(0);
    expect(pick(samples, 'flarewatch_budget_used_requests').length).toBe(1);
    expect(pick(samples, 'flarewatch_stream_max_staleness_seconds', { stream: 'billing-history:default' })[0]?.value).toBe(86_400);

    // API requests by endpoint (ids folded) and status: the simulator's own count, all 200.
    const api = pick(samples, 'flarewatch_api_requests_total');
    expect(total(api)).toBe(sim.stats.total);
    expect(total(pick(samples, 'flarewatch_api_requests_total', { status: '200' }))).toBeGreaterThan(0);
    const accountAudit = pick(samples, 'flarewatch_api_requests_total', { endpoint: '/accounts/:id/logs/audit', status: '200' });
    expect(accountAudit.length).toBe(1);
    expect(accountAudit[0]!.value).toBeGreaterThanOrEqual(Math.ceil(300 / 50));
    for (const s of api) expect(s.labels.endpoint).not.toMatch(/[0-9a-f]{32}/);

    // Entries archived: the account audit stream was walked once, so its counter is its row count.
    const v2Rows = (await db.pool.query<{ n: number }>(`select count(*)::int as n from audit_logs where source = 'account_v2'`)).rows[0]!.n;
    expect(v2Rows).toBe(300);
    expect(pick(samples, 'flarewatch_entries_archived_total', { stream: 'account-audit' })[0]?.value).toBe(v2Rows);
    expect(pick(samples, 'flarewatch_entries_archived_total', { stream: 'user-audit' })[0]?.value).toBeGreaterThanOrEqual(60);

    // Sync duration per stream kind: one observation per successful walk.
    const runs = (await db.pool.query<{ kind: string; n: number }>(
      `select split_part(stream, ':', 1) as kind, count(*)::int as n from sync_runs where status = 'succeeded' group by 1`,
    )).rows;
    expect(runs.length).toBeGreaterThan(3);
    for (const r of runs) {
      expect(pick(samples, 'flarewatch_sync_duration_seconds_count', { kind: r.kind, status: 'succeeded' })[0]?.value, r.kind).toBe(r.n);
      expect(pick(samples, 'flarewatch_sync_duration_seconds_sum', { kind: r.kind, status: 'succeeded' })[0]!.value).toBeGreaterThan(0);
    }

    // Lag per stream: one gauge per walked stream, never negative.
    const streams = (await db.pool.query<{ stream: string }>('select stream from sync_state')).rows.map((r) => r.stream);
    const lags = pick(samples, 'flarewatch_sync_lag_seconds');
    expect(lags.map((s) => s.labels.stream).sort()).toEqual([...streams].sort());
    for (const s of lags) expect(s.value).toBeGreaterThanOrEqual(0);

    // Queue depths: every queue and state reported, all drained now.
    for (const queue of ['sync', 'checks', 'alerts']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        expect(pick(samples, 'flarewatch_queue_jobs', { queue, state })[0]?.value, `${queue} ${state}`).toBe(0);
      }
    }
    // Jobs by outcome: every sync job this instance ran, each round's checks.
    expect(total(pick(samples, 'flarewatch_jobs_total', { queue: 'sync', job: 'sync.stream' }))).toBe(daemon!.completed.filter((id) => id.startsWith('sync|')).length);
    expect(total(pick(samples, 'flarewatch_jobs_total', { queue: 'checks' }))).toBe(2);
    // The shared limiter was on, far above this demand: declared, zero or more waits.
    expect(pick(samples, 'flarewatch_rate_limit_waits_total')[0]!.value).toBeGreaterThanOrEqual(0);
    // Findings open by severity match the table, when the rules stage produced any.
    const open = await db.pool.query<{ severity: string; n: number }>(
      `select severity::text as severity, count(*)::int as n from findings where status = 'open' group by 1`,
    ).then((r) => r.rows, () => []);
    for (const row of open) expect(pick(samples, 'flarewatch_findings_open', { severity: row.severity })[0]?.value).toBe(row.n);
  });

  it('/readyz answers 503 while Redis is down and 200 once it is back', async () => {
    const restarting = redis.restart(4_000);
    const end = Date.now() + 10_000;
    let down: Response | undefined;
    while (Date.now() < end) {
      const r = await fetch(url('/readyz'));
      if (r.status === 503) {
        down = r;
        break;
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
    expect(down?.status).toBe(503);
    expect(await down!.text()).toMatch(/redis unreachable/);
    // Liveness is not readiness: the process itself is fine, and a scrape still answers (queue depths left out).
    expect(await status('/healthz')).toBe(200);
    const scrape = await fetch(url('/metrics'), { signal: AbortSignal.timeout(8_000) });
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/flarewatch_api_requests_total\{/);
    await restarting;
    const back = Date.now() + 20_000;
    while ((await status('/readyz')) !== 200) {
      if (Date.now() > back) throw new Error('/readyz still not 200 after Redis came back');
      await new Promise((ok) => setTimeout(ok, 100));
    }
    expect(await status('/metrics')).toBe(200);
  });
});
