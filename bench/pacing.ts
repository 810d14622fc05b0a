// Pacing at the API's limit, counted where Cloudflare counts it: the simulator's own log of the
// requests it answered, per rate-limit bucket. The simulator runs in this process here (its log
// is the measurement); pages are small so that the limit, not the walk's own speed, binds.
// Three shapes, as issue 14 asks: one worker; three workers sharing one budget through Redis
// (each with its own limiter registry, as separate processes have); two credentials at once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { credentialAccesses } from '../src/credentials/access.js';
import { redisLimiters } from '../src/credentials/limiters.js';
import { loadConfig } from '../src/config.js';
import type { Context } from '../src/context.js';
import { connectRedis, startRedisServer } from '../src/jobs/redis.js';
import { createLogger } from '../src/log.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { syncAll } from '../src/sync/sync-all.js';
import { type BenchPostgres, fmt } from './lib.js';

// Cloudflare's rate (1200 / 5 min = 4 per second) in a 5 s window, so a run spans many windows.
const LIMIT = { requests: 20, windowMs: 5_000 };
// Entries per budget: with pages of 100, 160 requests = 8 windows at the limit.
const ENTRIES = Number(process.env.BENCH_PACED_ENTRIES ?? 16_000);
// No margin: the limiter counts each request until its answer, which alone keeps flarewatch's own
// requests under the limit; the configured margin (default 5 %) leaves room for other users of the budget.
const MARGIN = process.env.BENCH_PACED_MARGIN ?? '0';
const PAGE = '100';

interface Share { requests: number; limited: number; busiest: number; share: number }

/** One budget's requests: the busiest window, and the share of the limit used over the whole windows of the run. */
function shareOf(times: number[], limited: number): Share {
  times.sort((a, b) => a - b);
  const t0 = times[0]!;
  const windows = Math.max(1, Math.floor((times.at(-1)! - t0) / LIMIT.windowMs));
  const inFull = times.filter((t) => t < t0 + windows * LIMIT.windowMs).length;
  let busiest = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= LIMIT.windowMs) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  return { requests: times.length, limited, busiest, share: inFull / (windows * LIMIT.requests) };
}

function shares(sim: Simulator): Share[] {
  const byBucket = new Map<string, { times: number[]; limited: number }>();
  for (const e of sim.stats.log) {
    if (!e.principal) continue;
    const b = byBucket.get(e.principal) ?? { times: [], limited: 0 };
    b.times.push(e.at);
    if (e.status === 429) b.limited += 1;
    byBucket.set(e.principal, b);
  }
  return [...byBucket.values()].map((b) => shareOf(b.times, b.limited));
}

function context(env: Record<string, string>, registry?: ReturnType<typeof redisLimiters>): Context {
  const config = loadConfig({
    DATABASE_URL: 'postgres://bench', LOG_LEVEL: 'warn', FLAREWATCH_RATE_LIMIT: `${LIMIT.requests}/${LIMIT.windowMs / 1000}s`,
    FLAREWATCH_RATE_LIMIT_MARGIN: MARGIN, FLAREWATCH_AUDIT_PAGE_SIZE: PAGE, ...env,
  });
  const log = createLogger({ level: 'warn', format: 'json', secrets: [], destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  return { db: undefined as never, log, config, credentials: credentialAccesses(config, registry ? { registry } : {}), now: () => new Date() };
}

async function scenario(pgs: BenchPostgres, name: string, size: Record<string, number>, run: (sim: Simulator, db: Context['db']) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ seed: 11, size: { accounts: 1, userTokens: 1, accountTokensPerAccount: 1, membersPerAccount: 1, accountAuditV1Entries: 1, userAuditEntries: 1, auditDays: 5, ...size }, rateLimit: LIMIT });
  const { database } = await pgs.freshDatabase();
  try {
    await run(sim, database.db);
    const list = shares(sim);
    const worst = list.reduce((a, b) => (b.share < a.share ? b : a));
    const limited = list.reduce((s, b) => s + b.limited, 0);
    console.log(`${name.padEnd(34)} ${String(list.reduce((s, b) => s + b.requests, 0)).padStart(5)} requests, busiest window ${list.map((b) => b.busiest).join('/')} of ${LIMIT.requests}, ` +
      `share of the limit ${list.map((b) => `${fmt(100 * b.share, 1)}%`).join(' / ')}  (lowest ${fmt(100 * worst.share, 1)}%, 429s ${limited})`);
  } finally {
    await database.close();
    await sim.close();
  }
}

export async function pacingBench(pgs: BenchPostgres): Promise<void> {
  console.log(`\n## Paced at the simulator's limit (${LIMIT.requests} requests / ${LIMIT.windowMs / 1000} s, margin ${MARGIN}, pages of ${PAGE}; target ≥ 97%, zero 429s)`);
  const env = (sim: Simulator) => ({ CLOUDFLARE_BASE_URL: sim.url, CLOUDFLARE_API_TOKEN: sim.credentials.apiToken });

  await scenario(pgs, '1 worker', { accountAuditEntries: ENTRIES }, async (sim, db) => {
    await syncAll({ ...context(env(sim)), db }, { streams: ['account-audit'] });
  });

  const dir = mkdtempSync(join(tmpdir(), 'flarewatch-bench-redis-'));
  const server = await startRedisServer({ dir, persist: false });
  try {
    await scenario(pgs, '3 workers, one budget (Redis)', { accounts: 3, accountAuditEntries: Math.round(ENTRIES / 3) }, async (sim, db) => {
      // The accounts first (not measured: their requests went through another limiter, so wait out
      // the simulator's window they fill), then one account's audit stream per worker, all at once.
      await syncAll({ ...context(env(sim)), db }, { streams: ['accounts'] });
      await new Promise((r) => setTimeout(r, LIMIT.windowMs + 100));
      sim.stats.reset();
      const workers = sim.world.accounts.map(() => connectRedis(server.url, 'bench-worker'));
      try {
        await Promise.all(sim.world.accounts.map((a, i) =>
          syncAll({ ...context(env(sim), redisLimiters(workers[i]!, Number(MARGIN))), db }, { streams: [`account-audit:${a.id}`] })));
      } finally {
        workers.forEach((r) => r.disconnect());
      }
    });
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  await scenario(pgs, '2 credentials at once', { users: 2, userAuditEntries: ENTRIES, extraUserAuditEntries: ENTRIES }, async (sim, db) => {
    const alice = sim.issueCredential({ kind: 'user-token', user: 0 });
    const bob = sim.issueCredential({ kind: 'user-token', user: 1 });
    const value = (c: typeof alice) => (c.kind === 'user-token' ? c.value : '');
    const cfgDir = mkdtempSync(join(tmpdir(), 'flarewatch-bench-creds-'));
    try {
      const file = join(cfgDir, 'flarewatch.json');
      writeFileSync(file, JSON.stringify({ cloudflare: { credentials: [{ name: 'alice', apiToken: value(alice) }, { name: 'bob', apiToken: value(bob) }] } }));
      await syncAll({ ...context({ CLOUDFLARE_BASE_URL: sim.url, FLAREWATCH_CONFIG: file }), db }, { streams: ['user-audit'] });
    } finally {
      rmSync(cfgDir, { recursive: true, force: true });
    }
  });
}
