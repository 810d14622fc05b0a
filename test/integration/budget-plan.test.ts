// The budget plan against the simulator's per-principal rate limit, rounds driven with an injected
// clock: with a share of 30 % of what a round needs, every audit stream is walked every round, no
// inventory stream passes its maximum staleness, and flarewatch itself causes no 429. When another
// tool spends the budget (429s flarewatch's own pacing did not predict), the next round's share halves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { slidingWindowLimiter } from '../../src/cloudflare/rate-limit.js';
import { credentialAccesses } from '../../src/credentials/access.js';
import type { LimiterRegistry } from '../../src/credentials/limiters.js';
import type { RequestLimiter } from '../../src/cloudflare/rate-limit.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { AUDIT_KINDS } from '../../src/sync/catalog.js';
import { maxStalenessOf, planBudgetRound, type PlannedRound } from '../../src/sync/budget-round.js';
import { planInput, planRound } from '../../src/sync/plan.js';
import { syncAll } from '../../src/sync/sync-all.js';
import type { Context } from '../../src/context.js';
import { formatStatus } from '../../src/commands/status.js';
import { budgetSummaries, streamStaleness } from '../../src/db/queries/budget.js';
import { createMetrics, streamLags } from '../../src/ops/metrics.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const HOUR = 3_600_000;
// The limit per hour (one round per hour, audit and inventory alike): room for the first round's every stream.
const LIMIT = 400;
let clock = Date.parse('2030-01-01T00:00:00Z');
const now = () => clock;
let db: TestDatabase;
let sim: Simulator;
let ctx: Context;

/** Limiters on the injected clock: a request over the limit would wait for a clock that only the test moves. */
function clockLimiters(): LimiterRegistry {
  const all = new Map<string, RequestLimiter>();
  return { all, get: (key, s) => all.get(key) ?? all.set(key, slidingWindowLimiter(s, now)).get(key)! };
}

beforeAll(async () => {
  // Big listings that can wait (organisations and IP rules 12 pages, 6 h; billing 48 pages, 24 h) beside what cannot.
  sim = await startSimulator({
    seed: 23, now, rateLimit: { requests: LIMIT, windowMs: HOUR },
    size: { accounts: 3, organizations: 600, ipAccessRules: 600, billingHistory: 2400, userAuditEntries: 40, accountAuditEntries: 80, accountAuditV1Entries: 40, auditDays: 3 },
  });
  db = await createTestDatabase();
  const base = testContext(db, sim, {
    FLAREWATCH_RATE_LIMIT: `${LIMIT}/1h`, FLAREWATCH_RATE_LIMIT_MARGIN: '0', LOG_LEVEL: 'info',
    FLAREWATCH_SCHEDULE_AUDIT: '0 * * * *', FLAREWATCH_SCHEDULE_INVENTORY: '0 * * * *',
    // Identified once: the 429s below meet walks (counted in sync_runs), not a re-verification of the token.
    FLAREWATCH_CREDENTIAL_VERIFY_INTERVAL: '1000d',
  });
  ctx = { ...base, now: () => new Date(clock), credentials: credentialAccesses(base.config, { registry: clockLimiters() }) };
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

const withShare = (share: number): Context => ({ ...ctx, config: { ...ctx.config, budget: { ...ctx.config.budget, share } } });

async function round(c: Context): Promise<PlannedRound> {
  const due = planRound(await planInput(c, [])).streams;
  const plan = await planBudgetRound(c, due, { at: new Date(clock), inventory: true });
  const outcomes = await syncAll(c, { streams: plan.streams });
  expect(outcomes.filter((o) => o.status === 'failed')).toEqual([]);
  return plan;
}

async function lastSuccess(): Promise<Map<string, number>> {
  const rows = await ctx.db.execute<{ stream: string; at: string }>(sql`select stream, last_success_at::text as at from sync_state`);
  return new Map(rows.rows.map((r) => [r.stream, Date.parse(r.at)]));
}

const requestsSince = async (at: number) =>
  (await ctx.db.execute<{ n: number }>(sql`select coalesce(sum(requests), 0)::int as n from sync_runs where started_at >= ${new Date(at).toISOString()}::timestamptz`)).rows[0]!.n;

describe('the budget plan', () => {
  let shareUsed = 0;

  it('at 30 % of a round\'s needs: audit current every round, inventory within its maximum staleness, no 429, the share kept on average', async () => {
    // Two rounds unplanned: the first discovers the accounts, the second walks their streams (and backfills their audit logs).
    for (const _ of [1, 2]) {
      await round(ctx);
      clock += HOUR;
    }
    // What a round of every stream needs: each one's last complete walk.
    const needs = (await ctx.db.execute<{ n: number }>(sql`select sum(requests)::int as n from (select distinct on (stream) requests from sync_runs
      where status = 'succeeded' order by stream, started_at desc) x`)).rows[0]!.n;
    const capacity = Math.floor(0.3 * needs);
    const c = withShare((0.3 * needs) / LIMIT);
    const start = clock;
    const rounds = 30;
    let deferredRounds = 0;
    let over = 0;
    for (let r = 0; r < rounds; r++, clock += HOUR) {
      const plan = await round(c);
      expect(plan.decisions).toHaveLength(1);
      const d = plan.decisions[0]!;
      expect(d.capacity).toBe(capacity);
      if (d.deferred.length) deferredRounds += 1;
      // Over the share only with streams that had to go (a listing bigger than a round's share, due): then nothing optional went.
      if (d.planned > capacity) {
        over += 1;
        expect(d.deferred.length).toBeGreaterThan(0);
      }
      const seen = await lastSuccess();
      for (const s of planRound(await planInput(c, [])).streams) {
        const staleness = clock - (seen.get(s) ?? -Infinity);
        if (AUDIT_KINDS.includes(s.split(':')[0]!)) expect({ s, staleness }).toEqual({ s, staleness: 0 });
        else expect({ s, within: staleness <= maxStalenessOf(c.config, s) }).toEqual({ s, within: true });
      }
    }
    expect(sim.stats.byStatus[429] ?? 0).toBe(0);
    // The plan had to choose: most rounds left something to a later one.
    expect(deferredRounds).toBeGreaterThan(rounds / 2);
    const used = await requestsSince(start);
    console.log(`budget plan: needs ${needs}/round, share ${capacity}/round, used ${(used / rounds).toFixed(1)}/round over ${rounds} rounds, ${over} over the share`);
    expect(used).toBeLessThanOrEqual(rounds * capacity);
    expect(over).toBeLessThan(rounds / 6);
    shareUsed = (0.3 * needs) / LIMIT;
  });

  it('shows each budget\'s planned and used requests and each stream\'s staleness against its maximum (status, /metrics)', async () => {
    // Before the credential was identified its requests counted against `credential:default`: a day past, that budget is no longer shown.
    const budgets = await budgetSummaries(ctx.db);
    expect(budgets).toHaveLength(1);
    expect(budgets[0]!.budget).toMatch(/^user:/);
    expect(budgets[0]!.used).toBeGreaterThan(0);
    const staleness = await streamStaleness(ctx.db, ctx.config, new Date(clock));
    expect(staleness.filter((x) => !x.audit && x.stalenessSeconds! > x.maxSeconds)).toEqual([]);
    const text = formatStatus(await streamLags(ctx.db), { budgets, staleness });
    expect(text).toMatch(new RegExp(`${budgets[0]!.budget}\\s.*\\s${budgets[0]!.planned}\\s+${budgets[0]!.used}\\s`));
    const metrics = createMetrics({ db: ctx.db, config: ctx.config });
    const body = await metrics.registry.metrics();
    expect(body).toContain(`flarewatch_budget_planned_requests{budget="${budgets[0]!.budget}"} ${budgets[0]!.planned}`);
    expect(body).toMatch(/flarewatch_budget_used_requests\{budget="user:[^"]+"\} \d+/);
    expect(body).toMatch(/flarewatch_stream_staleness_seconds\{stream="billing-history:default"\} \d+/);
    expect(body).toContain('flarewatch_stream_max_staleness_seconds{stream="billing-history:default"} 86400');
  });

  it('halves the share for a round after 429s flarewatch did not cause (another tool spent the budget), then recovers', async () => {
    const c = withShare(shareUsed);
    const nominal = Math.floor(shareUsed * LIMIT);
    // Another tool with the same user's token spends the whole hour's limit (blocked for a second past it).
    sim.setRateLimit({ requests: LIMIT, windowMs: HOUR, blockMs: 1_000 });
    for (let i = 0; i < LIMIT; i++) await fetch(`${sim.url}/user`, { headers: { authorization: `Bearer ${sim.credentials.apiToken}` } });
    const before = sim.stats.byStatus[429] ?? 0;
    // Time moves on while flarewatch waits out Retry-After; once it has met a 429, the other tool's window ends.
    const roundAt = clock;
    const ticker = setInterval(() => {
      clock += 1_000;
      if ((sim.stats.byStatus[429] ?? 0) > before && !reset) {
        reset = true;
        sim.setRateLimit({ requests: LIMIT, windowMs: HOUR });
      }
    }, 50);
    let reset = false;
    try {
      await round(c);
    } finally {
      clearInterval(ticker);
    }
    expect(reset).toBe(true);
    const limited = await ctx.db.execute<{ n: number }>(sql`select coalesce(sum(rate_limited), 0)::int as n from sync_runs where started_at >= ${new Date(roundAt).toISOString()}::timestamptz`);
    expect(limited.rows[0]!.n).toBeGreaterThan(0);
    clock = roundAt + HOUR;
    const halved = (await round(c)).decisions[0]!;
    expect(halved.share).toBeCloseTo(shareUsed / 2, 6);
    expect(halved.capacity).toBe(Math.floor((shareUsed / 2) * LIMIT));
    // Past budget.backoffWindow (1 h) with no 429 since: the full share again.
    clock += HOUR;
    const recovered = (await round(c)).decisions[0]!;
    expect(recovered.share).toBeCloseTo(shareUsed, 6);
    expect(recovered.capacity).toBe(nominal);
  });
});
