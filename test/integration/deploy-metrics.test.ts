import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'deploy-metrics tests');

/**
 * Metrics the dashboard and the alert rules already use that this branch does not export yet.
 * The integrator empties this list as the work that adds them lands (the test fails for a name
 * that is listed here but already exported, so the list cannot go stale).
 */
// Prometheus's own series, not flarewatch's.
const PROMETHEUS_OWN = new Set(['up']);

const rules = parseYaml(readFileSync('deploy/prometheus/alerts.yml', 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
const dashboard = JSON.parse(readFileSync('deploy/grafana/flarewatch.json', 'utf8')) as { panels: Array<{ title: string; type: string; datasource?: { type: string }; targets?: Array<{ expr?: string; rawSql?: string }> }> };
const promExprs = [
  ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert}`, expr: r.expr }))),
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).filter((t) => t.expr).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr! }))),
];
const sqlPanels = dashboard.panels.flatMap((p) => (p.targets ?? []).filter((t) => t.rawSql).map((t) => ({ title: p.title, sql: t.rawSql! })));

let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
let daemon: TestDaemon | undefined;
let port: number;
let scrape = '';

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, size: { accounts: 1, accountAuditEntries: 40, accountAuditV1Entries: 20, userAuditEntries: 20, auditDays: 3 }, rateLimit: false });
  [db, redis, port] = await Promise.all([createTestDatabase(), startTestRedis(), freePort()]);
  daemon = await startTestDaemon(daemonEnv(db.url, sim, redis.url, { FLAREWATCH_HTTP_PORT: String(port), FLAREWATCH_RATE_LIMIT: '1200/5m' }), { scheduler: true, workers: true });
  await daemon.scheduler!.tick(new Date());
  await waitIdle(redis.url, 120_000);
  scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
});
afterAll(async () => {
  await daemon?.shutdown('test over');
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

/** Every flarewatch metric the daemon exports (by its TYPE line, so one with no sample yet counts), with its labels. */
function exported(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  // Labels as each metric declares them (a counter with no sample yet shows none in the scrape).
  for (const m of scrape.matchAll(/^# TYPE (flarewatch_\w+) (\w+)$/gm)) {
    const declared = (daemon!.metrics.registry.getSingleMetric(m[1]!) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [];
    out.set(m[1]!, new Set(declared));
  }
  for (const m of scrape.matchAll(/^(flarewatch_\w+?)(?:_bucket|_sum|_count)?\{([^}]*)\}/gm)) {
    const base = out.has(m[1]!) ? m[1]! : m[1]!.replace(/_(bucket|sum|count)$/, '');
    for (const l of m[2]!.matchAll(/(\w+)="/g)) out.get(base)?.add(l[1]!);
  }
  return out;
}

const baseName = (name: string, known: Map<string, Set<string>>) => (known.has(name) ? name : name.replace(/_(bucket|sum|count)$/, ''));

describe.runIf(REDIS)('deploy/: the dashboard and the alert rules', () => {
  it('use only metrics a real daemon exports (or that are listed as coming)', () => {
    const known = exported();
    expect(known.size).toBeGreaterThan(8);
    const missing: string[] = [];
    for (const { where, expr } of promExprs) {
      for (const [name] of expr.matchAll(/\b[a-z_][a-z0-9_]*(?=\s*(\{|\[|\)|$|\s|-|>|<|=))/g)) {
        if (!name.startsWith('flarewatch_') && !PROMETHEUS_OWN.has(name)) continue;
        if (PROMETHEUS_OWN.has(name)) continue;
        const base = baseName(name, known);
        if (!known.has(base)) missing.push(`${where}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('group and filter only by labels those metrics have', () => {
    const known = exported();
    const problems: string[] = [];
    for (const { where, expr } of promExprs) {
      const names = [...expr.matchAll(/\bflarewatch_\w+/g)].map((m) => baseName(m[0], known)).filter((n) => known.has(n));
      const labels = [
        ...[...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim())),
        ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1]!.matchAll(/(\w+)\s*[=!~]/g)].map((l) => l[1]!)),
      ].filter((l) => l && l !== 'le' && l !== 'job' && l !== 'instance');
      for (const label of labels) {
        const ok = names.some((n) => known.get(n)!.has(label)) || names.length === 0;
        if (!ok) problems.push(`${where}: label ${label} on ${names.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the PostgreSQL panels run against a flarewatch database', async () => {
    expect(sqlPanels.length).toBeGreaterThanOrEqual(3);
    for (const { title, sql } of sqlPanels) {
      const text = sql.replace(/\$__timeFilter\((\w+)\)/g, "$1 > now() - interval '30 days'");
      await expect(db.pool.query(text), title).resolves.toBeDefined();
    }
  });

  it.runIf(needTool('promtool', 'deploy-metrics promtool test'))('the scrape passes promtool check metrics', () => {
    // prom-client's default process metrics include three gauges named *_total, which promtool's
    // lint rejects; they are prom-client's names, not ours: every flarewatch_ family is checked.
    const upstream = /^(# (HELP|TYPE) )?nodejs_active_(handles|requests|resources)_total\b/;
    const ours = scrape.split('\n').filter((l) => !upstream.test(l)).join('\n');
    const res = spawnSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8' });
    expect(res.status, `${res.stdout}${res.stderr}`).toBe(0);
  });
});
