// npm run bench: every figure is a ratio against a baseline measured in the same run,
// because absolute times on shared machines drift.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Database } from '../src/db/client.js';
import { syncAll } from '../src/sync/sync-all.js';
import { archiveScaleBench } from './archive-scale.js';
import { copyBaseline } from './copy-baseline.js';
import { pacingBench } from './pacing.js';
import { roundBench } from './round.js';
import { rulesBench } from './rules.js';
import { startupBench } from './startup.js';
import { benchContext, benchPostgres, collectV2Pages, firstAccountId, fmt, rawFetchV2, ROOT, type SimProcess, simulatorProcess, type BenchPostgres } from './lib.js';

const run = promisify(execFile);
const BIG = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const SMALL = Math.round(BIG / 10);
const DAY = 86_400_000;

function simOptions(entries: number, rateLimit: string) {
  return {
    seed: 7,
    rateLimit,
    size: { accounts: 1, userTokens: 1, accountTokensPerAccount: 1, membersPerAccount: 1, accountAuditEntries: entries, accountAuditV1Entries: 1, userAuditEntries: 1 },
  };
}

/** One archive of the simulator's v2 log into a fresh database. */
async function archiveOnce(pgs: BenchPostgres, sim: SimProcess) {
  const { database } = await pgs.freshDatabase();
  try {
    const ctx = benchContext(database, sim, { FLAREWATCH_RATE_LIMIT: 'off' });
    await database.pool.query('checkpoint');
    const t1 = performance.now();
    const outcomes = await syncAll(ctx, { streams: ['account-audit'] });
    const archiveMs = performance.now() - t1;
    const audit = outcomes.find((o) => o.stream.startsWith('account-audit:'))!;
    if (audit.status !== 'succeeded') throw new Error(`archive failed: ${audit.status === 'failed' ? audit.error.message : audit.reason}`);
    const stored = Number((await database.pool.query('select count(*) from audit_logs')).rows[0].count);
    return { archiveMs, stored, audit };
  } finally {
    await database.close();
  }
}

async function throughput(pgs: BenchPostgres) {
  const sim = await simulatorProcess(simOptions(BIG, 'off'));
  try {
    const accountId = await firstAccountId(sim);
    const since = new Date(Date.now() - 548 * DAY).toISOString();
    const before = new Date(Date.now() - 120_000).toISOString();
    const t0 = performance.now();
    const base = await rawFetchV2(sim, accountId, since, before);
    const baseMs = performance.now() - t0;

    const { archiveMs, stored, audit } = await archiveOnce(pgs, sim);

    // The write baseline on at most 200k of the same entries (they are held in memory for COPY).
    const sample = await collectV2Pages(sim, accountId, since, before, 200);
    /** The sample written into a fresh database, after `prepare`. */
    const copyFresh = async (how: 'direct' | 'staged', prepare?: (database: Database) => Promise<void>) => {
      const { database } = await pgs.freshDatabase();
      try {
        await prepare?.(database);
        return await copyBaseline(database, accountId, sample, how);
      } finally {
        await database.close();
      }
    };
    const copied = await copyFresh('direct');
    const staged = await copyFresh('staged');
    // What the secondary indexes cost a write: the same COPY into the table with its primary key only.
    let secondary: string[] = [];
    const bare = await copyFresh('direct', async (database) => {
      secondary = (await database.pool.query<{ name: string }>(
        `select indexname as name from pg_indexes where schemaname = 'public' and tablename = 'audit_entries' and indexname <> 'audit_entries_pkey'`,
      )).rows.map((r) => r.name);
      for (const ix of secondary) await database.pool.query(`drop index "${ix}"`);
    });

    const minimum = Math.ceil(base.entries / 1000);
    const baseRate = base.entries / (baseMs / 1000);
    const copyRate = copied.rows / (copied.ms / 1000);
    const archiveRate = stored / (archiveMs / 1000);
    const bound = Math.min(baseRate, copyRate);
    console.log(`\n## Archive ${fmt(base.entries)} v2 entries (simulator, no rate limit)`);
    console.log(`requests made          ${audit.counts.requests} (minimum ${minimum}: ${fmt(audit.counts.requests / minimum, 3)}×, keep 1.000×)`);
    console.log(`entries stored         ${fmt(stored)}`);
    console.log(`baseline (fetch+drop)  ${fmt(baseRate)} entries/s, ${base.pages} pages`);
    console.log(`archive                ${fmt(archiveRate)} entries/s`);
    console.log(`ratio archive/baseline ${fmt(archiveRate / baseRate, 2)}   (target ≥ 0.80)`);
    console.log(`COPY of the same rows  ${fmt(copyRate)} rows/s (${fmt(copied.rows)} rows into the same indexed table, one stream)`);
    console.log(`ratio archive/COPY     ${fmt(archiveRate / copyRate, 2)}   (target ≥ 0.90)`);
    console.log(`ratio archive/min(fetch, COPY) ${fmt(archiveRate / bound, 2)}   (how close the archive gets to the slower of its two halves)`);
    console.log(`COPY via a staging table + INSERT … ON CONFLICT ${fmt(staged.rows / (staged.ms / 1000))} rows/s (${fmt(staged.ms / copied.ms, 2)}× the time of direct COPY: the path a page takes when it overlaps what is archived)`);
    console.log(`COPY, primary key only ${fmt(bare.rows / (bare.ms / 1000))} rows/s: the ${secondary.length} secondary indexes cost ${fmt(100 * (1 - copyRate / (bare.rows / (bare.ms / 1000))), 0)} % of write throughput`);
    return { ratio: archiveRate / baseRate, simUrl: sim.url };
  } finally {
    await sim.stop();
  }
}

async function childRss(pgs: BenchPostgres, entries: number) {
  const sim = await simulatorProcess(simOptions(entries, 'off'));
  try {
    const { url, database } = await pgs.freshDatabase();
    await database.close();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/archive-child.ts'), sim.url, url], { cwd: ROOT, maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { ok: boolean; entries: number; ms: number; maxRssKb: number };
  } finally {
    await sim.stop();
  }
}

async function memory(pgs: BenchPostgres) {
  const small = await childRss(pgs, SMALL);
  const big = await childRss(pgs, BIG);
  console.log(`\n## Peak RSS, archive in a child process`);
  console.log(`${fmt(SMALL).padStart(9)} entries  ${fmt(small.maxRssKb / 1024)} MiB`);
  console.log(`${fmt(BIG).padStart(9)} entries  ${fmt(big.maxRssKb / 1024)} MiB`);
  console.log(`ratio big/small        ${fmt(big.maxRssKb / small.maxRssKb, 2)}   (target ≤ 1.20)`);
}

const pgs = await benchPostgres(55432 + (process.pid % 1000));
try {
  console.log(`flarewatch benchmarks — ${new Date().toISOString()}, node ${process.version}`);
  // BENCH_ONLY=startup, rules, archive (with pacing), throughput (the archive alone), pacing, archive-scale or round runs one part; by default everything, rules last.
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'startup') startupBench();
  if (!only || only === 'archive' || only === 'throughput') await throughput(pgs);
  if (!only || only === 'archive') await memory(pgs);
  if (!only || only === 'archive' || only === 'pacing') await pacingBench(pgs);
  if (!only || only === 'rules') await rulesBench(pgs);
  if (!only || only === 'archive-scale') await archiveScaleBench(pgs);
  if (!only || only === 'round') await roundBench(pgs);
} finally {
  await pgs.stop();
}
