// Where a round's time goes, per budget (issue 22 item 1): every moment a budget could have sent a
// request (fewer than its limit in the last window, as the simulator counts) but sent none is idle,
// and is attributed to what that budget's sync jobs were doing then, from their own clocks:
// BullMQ's job timestamps (added, taken, finished) and the walk's sync_runs row (started, finished).
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { hashKey } from '../src/credentials/limiters.js';
import type { SimLogEntry } from '../src/simulator/http/stats.js';

/** Collects the simulator's request log as it goes (it keeps only the last 10,000 entries). */
export function requestRecorder(log: () => SimLogEntry[]): { poll(): void; entries: SimLogEntry[] } {
  const entries: SimLogEntry[] = [];
  let last: SimLogEntry | undefined;
  return {
    entries,
    poll() {
      const now = log();
      let i = now.length;
      while (i > 0 && now[i - 1] !== last) i--;
      // `last` trimmed away (should not happen at 100 ms polls): take the whole log.
      const fresh = i === 0 && last !== undefined && !now.includes(last) ? now : now.slice(i);
      for (const e of fresh) if (e.principal) entries.push(e);
      if (now.length) last = now[now.length - 1];
    },
  };
}

/**
 * Requests in flight per budget as the shared limiter counts them (granted, not answered: scored past
 * now in its Redis window), sampled with the request log. `calls`: the probe's own Redis commands.
 */
export function inflightSampler(redis: Redis, budgets: string[]): { poll(): Promise<void>; at(budget: string, t: number): number; calls: number } {
  const keys = budgets.map((b) => [b, `flarewatch:ratelimit:${hashKey(b)}:log`] as const);
  const samples = new Map<string, Array<[number, number]>>(budgets.map((b) => [b, []]));
  const sampler = {
    calls: 0,
    async poll() {
      const t = Date.now();
      const counts = await Promise.all(keys.map(([, k]) => redis.zcount(k, `(${t}`, '+inf')));
      sampler.calls += keys.length;
      keys.forEach(([b], i) => samples.get(b)!.push([t, counts[i]!]));
    },
    /** The last sample at or before `t` (binary search: the profile asks once per 5 ms step). */
    at(budget: string, t: number) {
      const s = samples.get(budget) ?? [];
      let [lo, hi] = [0, s.length];
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (s[mid]![0] <= t) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 ? 0 : s[lo - 1]![1];
    },
  };
  return sampler;
}

interface JobSpan { budget: string; added: number; taken: number; walkStart: number; walkEnd: number; done: number }

/** Each sync job of the tick: its budget (the walking credential's user) and its five instants. */
async function jobSpans(redis: Redis, pool: pg.Pool, tick: string, since: string, budgetOf: (credential: string) => string): Promise<JobSpan[]> {
  const queue = new Queue('sync', { connection: redis });
  try {
    const jobs = (await queue.getJobs(['completed', 'failed'])).filter((j) => j?.data?.tick === tick);
    const runs = await pool.query<{ stream: string; credential: string; s: number; f: number }>(
      `select stream, credential, extract(epoch from started_at) * 1000 as s, extract(epoch from finished_at) * 1000 as f
         from sync_runs where started_at >= $1 and finished_at is not null`, [since]);
    const byStream = new Map(runs.rows.map((r) => [r.stream, r]));
    return jobs.flatMap((j) => {
      const r = byStream.get(j.data.stream as string);
      if (!r || !j.processedOn || !j.finishedOn) return [];
      return [{ budget: budgetOf(r.credential), added: j.timestamp, taken: j.processedOn, walkStart: Number(r.s), walkEnd: Number(r.f), done: j.finishedOn }];
    });
  } finally {
    await queue.close();
  }
}

const CAUSES = [
  'before its first job was enqueued (planning, adding the flow)',
  'its jobs queued while every worker slot held a job (other budgets\' or its own waiting)',
  'its jobs queued with a worker slot free (job pickup)',
  'a job taken, walk not started (walker choice, stream lock, run row)',
  'a walk between requests, its limiter full counting requests in flight (granted, not yet answered)',
  'a walk between requests, its limiter not full (page write, walk start/end queries, limiter sleep overshoot)',
  'a walk ended, job not completed (BullMQ completion, parent dependency)',
  'its work done (nothing left to walk)',
] as const;

/** Milliseconds idle per cause for one budget over [t0, t1], sampled every `step` ms. */
function idleOf(times: number[], inflight: (t: number) => number, jobs: JobSpan[], all: JobSpan[], slots: number, limit: number, windowMs: number, t0: number, t1: number, step: number): number[] {
  const out = CAUSES.map(() => 0);
  const sorted = [...times].sort((a, b) => a - b);
  let lo = 0;
  let hi = 0;
  const firstAdded = Math.min(...jobs.map((j) => j.added));
  for (let t = t0; t < t1; t += step) {
    while (hi < sorted.length && sorted[hi]! <= t) hi++;
    while (lo < hi && sorted[lo]! <= t - windowMs) lo++;
    if (hi - lo >= limit) continue;
    const inState = (f: (j: JobSpan) => boolean) => jobs.some(f);
    let cause: number;
    if (inState((j) => j.walkStart <= t && t < j.walkEnd)) cause = hi - lo + inflight(t) >= limit ? 4 : 5;
    else if (inState((j) => j.taken <= t && t < j.walkStart)) cause = 3;
    else if (inState((j) => j.walkEnd <= t && t < j.done)) cause = 6;
    else if (inState((j) => j.added <= t && t < j.taken)) cause = all.filter((j) => j.taken <= t && t < j.done).length >= slots ? 1 : 2;
    else cause = t < firstAdded ? 0 : 7;
    out[cause]! += step;
  }
  return out;
}

export interface RoundProfile { lines: string[]; busiestIdle: Record<string, number> }

/**
 * The idle breakdown of the busiest budget (the one that bounds the round) and of all budgets
 * together, from the tick (`t0`) to the round's end (`t1`), both in epoch milliseconds.
 */
export async function profileRound(o: {
  redis: Redis; pool: pg.Pool; tick: string; since: string; streams: number; t0: number; t1: number; requests: SimLogEntry[]; inflight: (budget: string, t: number) => number;
  budgetOf: (credential: string) => string; slots: number; limit: number; windowMs: number;
}): Promise<RoundProfile> {
  const all = await jobSpans(o.redis, o.pool, o.tick, o.since, o.budgetOf);
  const times = new Map<string, number[]>();
  for (const e of o.requests) times.set(e.principal, [...(times.get(e.principal) ?? []), e.at]);
  const busiest = [...times].sort((a, b) => b[1].length - a[1].length)[0]![0];
  const sum = CAUSES.map(() => 0);
  let busiestIdle: number[] = [];
  for (const [budget, ts] of times) {
    // 5 ms steps, coarser for long rounds (the sweep is steps × jobs).
    const step = Math.max(5, Math.ceil((o.t1 - o.t0) / 20_000));
    const idle = idleOf(ts, (t) => o.inflight(budget, t), all.filter((j) => j.budget === budget), all, o.slots, o.limit, o.windowMs, o.t0, o.t1, step);
    idle.forEach((v, i) => (sum[i]! += v));
    if (budget === busiest) busiestIdle = idle;
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  // BullMQ keeps max(5,000, 2 × the selection) completed jobs (src/jobs/keep.ts): past that the attribution is partial.
  const partial = all.length < o.streams
    ? [`   (only ${all.length} of the round's ${o.streams} jobs were still in Redis: the attribution below misreads the moments the others ran)`] : [];
  const walk = all.map((j) => j.walkEnd - j.walkStart).sort((a, b) => a - b);
  const med = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? 0;
  const lines = [
    ...partial,
    `   busiest budget idle with tokens free: ${s(busiestIdle.reduce((a, b) => a + b, 0))} of the round's ${s(o.t1 - o.t0)} (all ${times.size} budgets: ${s(sum.reduce((a, b) => a + b, 0))}):`,
    ...CAUSES.map((c, i) => `     ${c}: ${s(busiestIdle[i]!)} (all budgets ${s(sum[i]!)})`),
    `   per job (median): queued ${med(all.map((j) => j.taken - j.added).sort((a, b) => a - b))} ms, taken→walk ${med(all.map((j) => j.walkStart - j.taken).sort((a, b) => a - b))} ms, ` +
      `walk ${med(walk)} ms, walk→completed ${med(all.map((j) => j.done - j.walkEnd).sort((a, b) => a - b))} ms; first job added ${Math.min(...all.map((j) => j.added)) - o.t0} ms after the tick`,
  ];
  return { lines, busiestIdle: Object.fromEntries(CAUSES.map((c, i) => [c, busiestIdle[i]!])) };
}
