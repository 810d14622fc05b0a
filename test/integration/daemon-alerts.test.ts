// The daemon's alerts, end to end on a real Redis and Postgres: no storm on day one even
// though its first rounds walk the organisation in two steps, honest alert counters on
// /metrics (with the default process metrics), and log lines that carry each key once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/receivers.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-alerts tests');

let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
let hook: HttpReceiver;
let daemon: TestDaemon | undefined;
let port: number;
const at = (min: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + min * 60_000);
const types = () => hook.requests.map((r) => (JSON.parse(r.rawBody) as { type: string }).type);

/** The keys of every object in a JSON text, repeated ones included (JSON.parse would keep the last silently). */
export function duplicateKeys(json: string): string[] {
  const stack: Array<Set<string> | null> = [];
  const dupes: string[] = [];
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const str = json.slice(i + 1, j);
      let k = j + 1;
      while (json[k] === ' ') k++;
      const keys = stack.at(-1);
      if (json[k] === ':' && keys) {
        if (keys.has(str)) dupes.push(str);
        keys.add(str);
      }
      i = j;
    }
  }
  return dupes;
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 33, size: { accounts: 2, userTokens: 4, accountTokensPerAccount: 4, membersPerAccount: 4, accountAuditEntries: 120, accountAuditV1Entries: 30, userAuditEntries: 30, auditDays: 5 }, rateLimit: false });
  [db, redis, port, hook] = await Promise.all([createTestDatabase(), startTestRedis(), freePort(), startHttpReceiver()]);
  const env = daemonEnv(db.url, sim, redis.url, {
    FLAREWATCH_HTTP_PORT: String(port), FLAREWATCH_WEBHOOK_URL: `${hook.url}/hook`, FLAREWATCH_WEBHOOK_SECRET: 'daemon-alerts-secret-0123456789',
  });
  daemon = await startTestDaemon(env, { scheduler: true, workers: true, concurrency: 3 });
});
afterAll(async () => {
  await daemon?.shutdown('test over');
  await hook?.close();
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

describe.runIf(REDIS)('the daemon', () => {
  it('first rounds (global streams, then each account\'s): summaries only, no alert per finding', async () => {
    await daemon!.scheduler!.tick(at(0));
    await waitIdle(redis.url, 60_000);
    await daemon!.scheduler!.tick(at(5));
    await waitIdle(redis.url, 60_000);
    const accountStreams = (await db.pool.query(`select count(*)::int n from sync_state where stream like 'members:%' and last_success_at is not null`)).rows[0].n;
    expect(accountStreams).toBe(2);
    const open = (await db.pool.query(`select count(*)::int n from findings where status = 'open'`)).rows[0].n;
    expect(open).toBeGreaterThan(10);
    expect(types().length).toBeGreaterThanOrEqual(1);
    expect(types().every((t) => t === 'summary')).toBe(true);
  });

  it('a new finding later alerts on its own', async () => {
    const before = hook.requests.length;
    sim.world.addUserToken({ name: 'daemon new token', status: 'active', expires_on: undefined });
    await daemon!.scheduler!.tick(at(60), ['inventory']);
    await waitIdle(redis.url, 60_000);
    const sent = types().slice(before);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((t) => t === 'finding.opened')).toBe(true);
  });

  it('/metrics counts the alerts the runs sent, by sink, beside the default process metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sample = (sink: string) => Number(new RegExp(`^flarewatch_alerts_sent_total\\{sink="${sink}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(sample('webhook')).toBe(hook.requests.length);
    const log = (await db.pool.query(`select count(*)::int n from alert_deliveries where sink = 'log' and status = 'sent'`)).rows[0].n;
    expect(log).toBeGreaterThan(0);
    expect(sample('log')).toBe(log);
    expect(text).toMatch(/^# TYPE flarewatch_alerts_failed_total counter$/m);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
  });

  it('log lines carry each key once', () => {
    expect(daemon!.logLines.length).toBeGreaterThan(20);
    const repeated = daemon!.logLines.flatMap((l) => duplicateKeys(l).map((k) => `${k} in ${l.slice(0, 160)}`));
    expect(repeated).toEqual([]);
    // The scopes are still there: a walk's lines name the job and the stream once.
    expect(daemon!.logLines.some((l) => l.includes('"msg":"walk succeeded"') && l.includes('"jobId"') && l.includes('"stream"'))).toBe(true);
  });
});
