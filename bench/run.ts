// npm run bench: every figure is a ratio against a baseline measured in the same run,
// because absolute times on shared machines drift.
import { credentialAccesses } from '../src/credentials/access.js';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { syncAll } from '../src/sync/sync-all.js';
import { copyBaseline } from './copy-baseline.js';
import { rulesBench } from './rules.js';
import { benchContext, benchPostgres, collectV2Pages, firstAccountId, fmt, rawFetchV2, ROOT, simulatorProcess, type BenchPostgres } from './lib.js';

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

async function throughput(pgs: BenchPostgres) {
  const sim = await simulatorProcess(simOptions(BIG, 'off'));
  try {
    const accountId = await firstAccountId(sim);
    const since = new Date(Date.now() - 548 * DAY).toISOString();
    const before = new Date(Date.now() - 120_000).toISOString();
    const t0 = performance.now();
    const base = await rawFetchV2(sim, accountId, since, before);
    const baseMs = performance.now() - t0;

    const { database } = await pgs.freshDatabase();
    const ctx = benchContext(database, sim, { FLAREWATCH_RATE_LIMIT: 'off' });
    const t1 = performance.now();
    const outcomes = await syncAll(ctx, { streams: ['account-audit'] });
    const archiveMs = performance.now() - t1;
    const audit = outcomes.find((o) => o.stream.startsWith('account-audit:'))!;
    if (audit.status !== 'succeeded') throw new Error(`archive failed: ${audit.status === 'failed' ? audit.error.message : audit.reason}`);
    const stored = Number((await database.pool.query('select count(*) from audit_logs')).rows[0].count);
    await database.close();

    // The write baseline on at most 200k of the same entries (they are held in memory for COPY).
    const copyDb = await pgs.freshDatabase();
    const copied = await copyBaseline(copyDb.database, accountId, await collectV2Pages(sim, accountId, since, before, 200));
    await copyDb.database.close();

    const minimum = Math.ceil(base.entries / 1000);
    const baseRate = base.entries / (baseMs / 1000);
    const copyRate = copied.rows / (copied.ms / 1000);
    const archiveRate = stored / (archiveMs / 1000);
    const bound = Math.min(baseRate, copyRate);
    console.log(`\n## Archive ${fmt(base.entries)} v2 entries (simulator, no rate limit)`);
    console.log(`requests made          ${audit.counts.requests} (minimum ${minimum}: ${fmt(audit.counts.requests / minimum, 3)}×)`);
    console.log(`entries stored         ${fmt(stored)}`);
    console.log(`baseline (fetch+drop)  ${fmt(baseRate)} entries/s, ${base.pages} pages`);
    console.log(`archive                ${fmt(archiveRate)} entries/s`);
    console.log(`ratio archive/baseline ${fmt(archiveRate / baseRate, 2)}   (target ≥ 0.80)`);
    console.log(`COPY of the same rows  ${fmt(copyRate)} rows/s (${fmt(copied.rows)} rows into the same indexed table, one stream)`);
    console.log(`ratio archive/min(fetch, COPY) ${fmt(archiveRate / bound, 2)}   (how close the archive gets to the slower of its two halves)`);
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

async function rateLimited(pgs: BenchPostgres) {
  const limit = { requests: 60, windowMs: 5_000 };
  const entries = 200_000;
  const sim = await simulatorProcess(simOptions(entries, `${limit.requests}/${limit.windowMs / 1000}`));
  try {
    const { database } = await pgs.freshDatabase();
    const ctx = benchContext(database, sim, { FLAREWATCH_RATE_LIMIT: `${limit.requests}/${limit.windowMs / 1000}s`, FLAREWATCH_RATE_LIMIT_MARGIN: '0.02' });
    const sent: number[] = [];
    const statuses: Record<number, number> = {};
    // Counted below the limiter: what is actually sent, when.
    ctx.credentials = credentialAccesses(ctx.config, {
      wrapFetch: (_name, inner) => async (input, init) => {
        const res = await inner(input, init);
        sent.push(performance.now());
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        return res;
      },
    });
    await syncAll(ctx, { streams: ['account-audit'] });
    await database.close();
    const t0 = sent[0]!;
    const fullWindows = Math.floor((sent.at(-1)! - t0) / limit.windowMs);
    const inFull = sent.filter((t) => t < t0 + fullWindows * limit.windowMs).length;
    let busiest = 0;
    for (let i = 0, j = 0; i < sent.length; i++) {
      while (sent[i]! - sent[j]! >= limit.windowMs) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    const allowed = limit.requests * fullWindows;
    console.log(`\n## Paced by the client at the simulator's limit (${limit.requests} requests / ${limit.windowMs / 1000} s)`);
    console.log(`requests               ${sent.length} (429 received: ${statuses[429] ?? 0})`);
    console.log(`busiest ${limit.windowMs / 1000} s window     ${busiest} requests (limit ${limit.requests})`);
    console.log(`sustained rate         ${inFull} requests in ${fullWindows} full windows = ${fmt((100 * inFull) / allowed, 1)}% of the limit   (target ≥ 95%, zero 429s)`);
  } finally {
    await sim.stop();
  }
}

const pgs = await benchPostgres(55432 + (process.pid % 1000));
try {
  console.log(`flarewatch benchmarks — ${new Date().toISOString()}, node ${process.version}`);
  // BENCH_ONLY=rules (or archive) runs one part; by default everything, rules last.
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'archive') {
    await throughput(pgs);
    await memory(pgs);
    await rateLimited(pgs);
  }
  if (!only || only === 'rules') await rulesBench(pgs);
} finally {
  await pgs.stop();
}
