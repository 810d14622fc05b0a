// A round over many accounts (issue 22, item 1): the scheduler's tick enqueues every stream of a
// 1,000-account world reached through 50 user credentials (50 budgets) and `flarewatch worker`
// processes sharing Redis walk them. Every figure is against a bound from outside flarewatch: the
// requests against the pages the simulator's world needs, the round time against the busiest
// budget's requests at its rate, writes and commands from PostgreSQL's and Redis's own counters.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { type Daemon, startDaemon } from '../src/jobs/daemon.js';
import { connectRedis, startRedisServer } from '../src/jobs/redis.js';
import type { Redis } from 'ioredis';
import { createLogger } from '../src/log.js';
import { type BenchPostgres, fmt } from './lib.js';
import { minimumRequests } from './round-minimum.js';
import { pgWrites, startWorkerProcs, tupleDiff } from './round-probes.js';
import { commandDiff, commandStats, countSources } from './round-redis.js';
import { inflightSampler, profileRound, requestRecorder } from './round-profile.js';
import { roundSize, roundWorld, type RoundWorld } from './round-world.js';

const figure = (name: string, value: string | number) => console.log(`figure ${name}: ${value}`);

interface RoundResult { streams: string[]; ms: number; requests: number; busiest: number; failed: number; profile: string[]; probeZcounts: number }

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Requests by route and each budget's first and last request of the round (BENCH_ROUND_ROUTES=1: where a round's time goes). */
function printRoutes(w: RoundWorld): void {
  console.log(JSON.stringify(w.sim.stats.byRoute));
  const spans = new Map<string, number[]>();
  for (const e of w.sim.stats.log) if (e.principal) spans.set(e.principal, [...(spans.get(e.principal) ?? []), e.at]);
  const base = Math.min(...[...spans.values()].flat());
  console.log([...spans.values()].map((t) => `${((Math.min(...t) - base) / 1000).toFixed(1)}–${((Math.max(...t) - base) / 1000).toFixed(1)} s (${t.length})`).join(', '));
}

/** The round's check run: its transitions by rule and kind (BENCH_ROUND_CHECKS=1: what a check wrote and why). */
async function printCheck(pool: Daemon['app']['database']['pool'], since: string): Promise<void> {
  const rows = await pool.query<{ rule_id: string; transition: string; n: number }>(`
    select f.rule_id, e.transition, count(*)::int as n from finding_events e join findings f on f.id = e.finding_id
    join check_runs c on c.id = e.check_run_id where c.started_at >= $1 group by 1, 2 order by 3 desc, 1, 2`, [since]);
  console.log(`   check: ${rows.rows.map((r) => `${r.rule_id} ${r.transition} ${r.n}`).join(', ') || 'no transitions'}`);
}

/** One tick of both schedules, walked to the end of its syncs (and its checks), timed from the tick. */
async function oneRound(w: RoundWorld, daemon: Daemon, at: Date, probe: Redis, slots: number, ended: () => Promise<void> = async () => undefined): Promise<RoundResult> {
  const pool = daemon.app.database.pool;
  w.sim.stats.reset();
  const recorder = requestRecorder(() => w.sim.stats.log);
  const inflight = inflightSampler(probe, [...w.users.values()].map((u) => `user:${u}`));
  const [t0, e0] = [performance.now(), Date.now()];
  const since = new Date(Date.now() - 1_000).toISOString();
  const { streams, tick } = await daemon.scheduler!.tick(at, ['audit', 'inventory']);
  const count = async (what: string) => (await pool.query<{ n: number }>(`select count(distinct stream)::int as n from sync_runs where started_at >= $1 and ${what}`, [since])).rows[0]!.n;
  while ((await count('finished_at is not null')) < streams.length) {
    recorder.poll();
    await inflight.poll();
    await sleep(100);
  }
  const ms = performance.now() - t0;
  recorder.poll();
  // The round's checks run after its syncs: wait for them, so the next round starts clean.
  for (let i = 0; i < 1200 && !(await pool.query(`select 1 from check_runs where started_at >= $1 and finished_at is not null`, [since])).rowCount; i++) await sleep(100);
  await ended();
  if (process.env.BENCH_ROUND_CHECKS) await printCheck(pool, since);
  const rate = w.size.rate;
  // After `ended` (the Redis counters): the profile's own reads of the jobs are not the round's.
  const profile = await profileRound({
    redis: probe, pool, tick, since, streams: streams.length, t0: e0, t1: e0 + ms, requests: recorder.entries, inflight: (b, t) => inflight.at(b, t), slots, limit: rate.requests, windowMs: rate.windowMs,
    budgetOf: (c) => `user:${w.users.get(c) ?? c}`,
  });
  if (process.env.BENCH_ROUND_ROUTES) printRoutes(w);
  const byBudget = Object.entries(w.sim.stats.byPrincipal).filter(([p]) => p !== '').map(([, s]) => s.total);
  return { streams, ms, requests: w.sim.stats.total, busiest: Math.max(...byBudget), failed: await count(`status = 'failed'`), profile: profile.lines, probeZcounts: inflight.calls };
}

interface Rig { w: RoundWorld; daemon: Daemon; probe: Redis; env: Record<string, string>; concurrency: number; rate: number; nextTick: () => Date }

/** A round in which nothing changed, with `n` worker processes: every figure of it. */
async function steadyRound(rig: Rig, n: number): Promise<void> {
  const { w, daemon, probe, rate } = rig;
  const procs = await startWorkerProcs(n, rig.concurrency, rig.env, probe);
  try {
    const before = await pgWrites(daemon.app.database.pool);
    const sources = process.env.BENCH_ROUND_REDIS_SOURCES ? await countSources(probe) : undefined;
    const [stats0, cpu0] = [await commandStats(probe), procs.cpuSeconds()];
    let [stats1, cpu] = [stats0, 0];
    let bySource: Array<[string, number]> | undefined;
    const r = await oneRound(w, daemon, rig.nextTick(), probe, n * rig.concurrency, async () => {
      [stats1, cpu] = [await commandStats(probe), procs.cpuSeconds() - cpu0];
      bySource = await sources?.stop();
    });
    // Less the profile's own sampling of the limiters (ZCOUNT, nothing else calls it).
    const byCommand = commandDiff(stats0, stats1).map(([c, k]) => [c, c === 'zcount' ? k - r.probeZcounts : k] as [string, number]).filter(([, k]) => k > 0);
    const commands = byCommand.reduce((t, [, k]) => t + k, 0);
    const after = await pgWrites(daemon.app.database.pool);
    const min = minimumRequests(w, r.streams, 'steady');
    const bound = (r.busiest / rate) * 1000;
    const rss = procs.peakRssKb().map((kb) => Math.round(kb / 1024));
    const tuples = tupleDiff(before, after);
    const rows = tuples.reduce((s, [, k]) => s + k, 0);
    const wal = Number(after.walBytes - before.walBytes);
    console.log(`${n} worker${n > 1 ? 's' : ' '} (nothing changed): ${r.streams.length} streams, ${fmt(r.requests)} requests (minimum ${fmt(min)}: ${fmt(r.requests / min, 3)}×), ` +
      `${fmt(r.ms / 1000, 1)} s against the busiest budget's ${r.busiest} requests at ${fmt(rate, 1)}/s = ${fmt(bound / 1000, 1)} s: ${fmt(r.ms / bound, 2)}×; ${r.failed} failed`);
    console.log(`   written: ${fmt(rows)} rows (${tuples.map(([t, k]) => `${t} ${fmt(k)}`).join(', ')}), WAL ${fmt(wal / 1024 / 1024, 1)} MiB; ` +
      `Redis ${fmt(commands)} commands (${fmt((commands) / r.streams.length, 1)} per stream); peak RSS ${rss.join(' / ')} MiB`);
    console.log(`   Redis commands per stream: ${byCommand.map(([c, k]) => `${c} ${fmt(k / r.streams.length, 1)}`).join(', ')}`);
    if (bySource) console.log(`   by source (MONITOR, per stream): ${bySource.map(([c, k]) => `${c} ${fmt(k / r.streams.length, 1)}`).join(', ')}`);
    for (const line of r.profile) console.log(line);
    console.log(`   workers' CPU ${fmt(cpu, 1)} s (${fmt((1000 * cpu) / r.streams.length, 1)} ms per stream); machine load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
    figure(`round.steady.requests_per_minimum.w${n}`, (r.requests / min).toFixed(3));
    figure(`round.time_per_api_bound.w${n}`, (r.ms / bound).toFixed(2));
    figure(`round.time_s.w${n}`, (r.ms / 1000).toFixed(1));
    figure(`round.api_bound_s.w${n}`, (bound / 1000).toFixed(1));
    figure(`round.nochange.rows.w${n}`, rows);
    figure(`round.nochange.rows_per_stream.w${n}`, (rows / r.streams.length).toFixed(2));
    figure(`round.nochange.wal_bytes.w${n}`, wal);
    figure(`round.redis_commands.w${n}`, commands);
    for (const [c, k] of byCommand) figure(`round.redis_${c}_per_stream.w${n}`, (k / r.streams.length).toFixed(1));
    figure(`round.worker_peak_rss_mib.w${n}`, rss.join('/'));
    figure(`round.worker_cpu_ms_per_stream.w${n}`, ((1000 * cpu) / r.streams.length).toFixed(1));
  } finally {
    await procs.stop();
  }
}

export async function roundBench(pgs: BenchPostgres): Promise<void> {
  const size = roundSize(process.env);
  const concurrency = Number(process.env.BENCH_ROUND_CONCURRENCY ?? 16);
  const counts = (process.env.BENCH_ROUND_WORKERS ?? '1,2,4').split(',').map(Number);
  const w = await roundWorld(size);
  const dir = mkdtempSync(join(tmpdir(), 'flarewatch-bench-round-redis-'));
  const server = await startRedisServer({ dir, persist: false });
  const { url, database } = await pgs.freshDatabase();
  await database.close();
  const env: Record<string, string> = {
    DATABASE_URL: url, REDIS_URL: server.url, CLOUDFLARE_BASE_URL: w.sim.url, FLAREWATCH_CONFIG: w.configFile,
    FLAREWATCH_RATE_LIMIT: `${size.rate.requests}/${size.rate.windowMs / 1000}s`, FLAREWATCH_RATE_LIMIT_MARGIN: '0',
    FLAREWATCH_AUDIT_LAG: '0s', FLAREWATCH_HTTP_PORT: '0', FLAREWATCH_DB_POOL_SIZE: String(concurrency + 4), LOG_LEVEL: 'warn',
  };
  const quiet = createLogger({ level: 'warn', format: 'json', secrets: [], destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const daemon = await startDaemon(loadConfig(env), { redisUrl: server.url, scheduler: true, workers: false, cron: false, log: quiet });
  const probe = connectRedis(server.url, 'bench-probe');
  const rate = size.rate.requests / (size.rate.windowMs / 1000);
  let minute = Math.ceil(Date.now() / 60_000) * 60_000;
  const nextTick = () => new Date((minute += 60_000));
  console.log(`\n## A round over ${fmt(size.accounts)} accounts through ${size.credentials} credentials (budgets), ${size.membersPerAccount} members, ` +
    `${size.tokensPerAccount} tokens, ${size.auditPerAccount} audit entries per account; limit ${size.rate.requests} / ${size.rate.windowMs / 1000} s per budget, ` +
    `${concurrency} walks per worker process`);
  figure('round.accounts', size.accounts);
  figure('round.credentials', size.credentials);
  try {
    // Setup, not measured as steady rounds: the first tick discovers the accounts, the second walks every stream for the first time.
    const procs = await startWorkerProcs(Math.max(...counts), concurrency, env, probe);
    const [discovery, first] = await (async () => {
      try {
        const slots = Math.max(...counts) * concurrency;
        return [await oneRound(w, daemon, nextTick(), probe, slots), await oneRound(w, daemon, nextTick(), probe, slots)];
      } finally {
        await procs.stop();
      }
    })();
    const firstMin = minimumRequests(w, first.streams, 'first');
    console.log(`first rounds: discovery ${discovery.streams.length} streams in ${fmt(discovery.ms / 1000, 1)} s; every stream ${first.streams.length} streams, ` +
      `${fmt(first.requests)} requests (minimum ${fmt(firstMin)}: ${fmt(first.requests / firstMin, 3)}×) in ${fmt(first.ms / 1000, 1)} s, ${first.failed} failed`);
    figure('round.first.requests_per_minimum', (first.requests / firstMin).toFixed(3));
    // The first full round against its own bound too: at 1,000 accounts it may be the only round that fits (BENCH_ROUND_STEADY=0).
    const firstBound = (first.busiest / rate) * 1000;
    console.log(`first full round with ${Math.max(...counts)} worker process(es): ${fmt(first.ms / 1000, 1)} s against the busiest budget's ${first.busiest} requests at ${fmt(rate, 2)}/s = ` +
      `${fmt(firstBound / 1000, 1)} s: ${fmt(first.ms / firstBound, 2)}×; machine load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
    for (const line of first.profile) console.log(line);
    figure('round.first.time_per_api_bound', (first.ms / firstBound).toFixed(2));
    figure('round.first.time_s', (first.ms / 1000).toFixed(1));
    figure('round.first.api_bound_s', (firstBound / 1000).toFixed(1));
    if (process.env.BENCH_ROUND_STEADY === '0') return;
    for (const n of counts) await steadyRound({ w, daemon, probe, env, concurrency, rate, nextTick }, n);
  } finally {
    probe.disconnect();
    await daemon.shutdown('bench over');
    await server.stop();
    await w.sim.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dirname(w.configFile), { recursive: true, force: true });
  }
}
