import { createTask } from 'node-cron';
import { sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Context } from '../context.js';
import { credentialRows } from '../db/queries/credentials.js';
import { pgTextArray } from '../db/queries/text-array.js';
import { budgetRounds } from '../db/schema/index.js';
import { DEFAULT_MAX_STALENESS } from '../config/budget.js';
import { parseDuration } from '../util/duration.js';
import { AUDIT_KINDS, parseStream } from './catalog.js';
import { likelyWalkers } from './likely-walker.js';
import { interleaveByBudget } from './round-order.js';
import { backedOffShare, type BudgetDecision, planBudgets, roundCapacity, type StreamDemand } from './budget-plan.js';

const kindOf = (stream: string) => stream.split(':', 1)[0]!;

/**
 * A schedule's period: the time between its next two runs after `at` (scanning up to 8 days).
 * Not the time to the next run: `status` asks this at any minute, and at 14:58 an hourly
 * schedule is two minutes from its next run, yet a stream walked at 14:53 is not stale.
 */
export function cronIntervalMs(expr: string, at: Date): number {
  const task = createTask(expr, () => undefined);
  const limit = 8 * 1440;
  const next = (from: number) => {
    for (let m = 1; m <= limit; m++) if (task.match(new Date(from + m * 60_000))) return from + m * 60_000;
    return undefined;
  };
  try {
    const first = next(Math.floor(at.getTime() / 60_000) * 60_000);
    const second = first === undefined ? undefined : next(first);
    return first === undefined || second === undefined ? 8 * 86_400_000 : second - first;
  } finally {
    void task.destroy();
  }
}

/** budget.maxStaleness of a stream's kind, in milliseconds. */
export function maxStalenessOf(config: Pick<Config, 'budget'>, stream: string): number {
  const kind = kindOf(stream);
  const fallback = DEFAULT_MAX_STALENESS[kind];
  return config.budget.maxStaleness[kind] ?? (fallback === undefined ? undefined : parseDuration(fallback)) ?? config.budget.defaultMaxStaleness;
}

/** Per credential: the budget Cloudflare counts it against (as far as known: this process, then the database). */
export async function budgetsOfCredentials(ctx: Context): Promise<Map<string, string>> {
  const rows = new Map((await credentialRows(ctx.db)).map((r) => [r.name, r]));
  return new Map(ctx.credentials.map((c) => {
    const id = c.identity ?? rows.get(c.name);
    if (id?.kind === 'account-token' && id.tokenId) return [c.name, `account-token:${id.tokenId}`];
    if (id?.userId) return [c.name, `user:${id.userId}`];
    return [c.name, `credential:${c.name}`];
  }));
}

interface StreamFacts { cost: Map<string, number>; walker: Map<string, string>; lastSuccess: Map<string, Date> }

/** Each stream's last complete walk (its cost and credential) and last success. */
async function streamFacts(ctx: Context, streams: string[]): Promise<StreamFacts> {
  const runs = await ctx.db.execute<{ stream: string; credential: string | null; requests: number }>(sql`
    select distinct on (stream) stream, credential, requests from sync_runs
     where stream = any(${pgTextArray(streams)}::text[]) and status = 'succeeded' order by stream, started_at desc`);
  const state = await ctx.db.execute<{ stream: string; at: string | null }>(sql`
    select stream, last_success_at::text as at from sync_state where stream = any(${pgTextArray(streams)}::text[])`);
  return {
    cost: new Map(runs.rows.map((r) => [r.stream, Math.max(1, r.requests)])),
    walker: new Map(runs.rows.filter((r) => r.credential).map((r) => [r.stream, r.credential!])),
    lastSuccess: new Map(state.rows.filter((r) => r.at).map((r) => [r.stream, new Date(r.at!)])),
  };
}

/** Rounds of this budget within the backoff window whose walks met a 429. */
async function limitedRounds(ctx: Context, budget: string, at: Date): Promise<number> {
  const since = new Date(at.getTime() - ctx.config.budget.backoffWindow);
  const res = await ctx.db.execute<{ n: number }>(sql`
    select count(*)::int as n from budget_rounds b
     where b.budget = ${budget} and b.round_at >= ${since.toISOString()}::timestamptz and b.round_at < ${at.toISOString()}::timestamptz
       and exists (select 1 from sync_runs r where r.credential = any(b.credentials) and r.rate_limited > 0 and r.started_at >= b.round_at
         and r.started_at < coalesce((select min(n.round_at) from budget_rounds n where n.budget = b.budget and n.round_at > b.round_at), 'infinity'))`);
  return res.rows[0]?.n ?? 0;
}

/**
 * What this budget's earlier rounds within the last day planned beyond their capacity, net of what they
 * left unplanned: a round that had to go over its share (a listing bigger than the share, due) is paid
 * back by the rounds after it, so the share holds on average.
 */
async function overspent(ctx: Context, budget: string, at: Date): Promise<number> {
  const res = await ctx.db.execute<{ n: number }>(sql`
    select coalesce(sum(planned - capacity), 0)::int as n from budget_rounds
     where budget = ${budget} and round_at >= ${new Date(at.getTime() - 86_400_000).toISOString()}::timestamptz and round_at < ${at.toISOString()}::timestamptz`);
  return Math.max(0, res.rows[0]?.n ?? 0);
}

export interface PlannedRound {
  /** The streams to walk, in the order given. */
  streams: string[];
  /** capacity: the share's requests for this round; debt: what earlier rounds overspent, taken off what this one plans. */
  decisions: Array<BudgetDecision & { share: number; debt: number }>;
}

/**
 * Shape one round (the streams a tick found due) to each budget's share; record the plan per budget;
 * order the chosen streams for the queue (round-order.ts).
 * `groups` says which schedules the tick is: an inventory round's budget spans until the next one.
 */
export async function planBudgetRound(ctx: Context, streams: string[], o: { at: Date; inventory: boolean }): Promise<PlannedRound> {
  if (streams.length === 0) return { streams, decisions: [] };
  const facts = await streamFacts(ctx, streams);
  const budgetOf = await budgetsOfCredentials(ctx);
  const first = ctx.credentials[0]?.name ?? '';
  const likely = await likelyWalkers(ctx);
  const walkerOf = (s: string) => {
    const scope = parseStream(s);
    if (scope.type === 'account') return facts.walker.get(s) ?? likely.get(scope.accountId) ?? first;
    return facts.walker.get(s) ?? (scope.type === 'credential' ? scope.credential : first);
  };
  const now = o.at.getTime();
  const demands: StreamDemand[] = streams.map((s) => ({
    stream: s,
    budget: budgetOf.get(walkerOf(s)) ?? `credential:${walkerOf(s)}`,
    audit: AUDIT_KINDS.includes(kindOf(s)),
    cost: facts.cost.get(s) ?? 1,
    stalenessMs: facts.lastSuccess.has(s) ? Math.max(0, now - facts.lastSuccess.get(s)!.getTime()) : null,
    maxStalenessMs: maxStalenessOf(ctx.config, s),
  }));
  const credentialsOf = (b: string) => ctx.credentials.filter((c) => budgetOf.get(c.name) === b);
  const limitOf = (b: string) => credentialsOf(b).map((c) => c.config.rateLimit).find((r) => r !== undefined);
  const rates = new Map([...new Set(demands.map((d) => d.budget))].map((b) => {
    const limit = limitOf(b);
    return [b, limit ? (1000 * limit.requests) / limit.windowMs : null];
  }));
  // Enqueued interleaved at the budgets' rates (round-order.ts), each budget's streams in the plan's order.
  const order = (chosen: StreamDemand[]) => interleaveByBudget(chosen, rates);
  if (!ctx.config.budget.enabled) return { streams: order(demands), decisions: [] };
  const auditIntervalMs = cronIntervalMs(ctx.config.daemon.auditSchedule, o.at);
  const inventoryIntervalMs = cronIntervalMs(ctx.config.daemon.inventorySchedule, o.at);
  const intervalMs = o.inventory ? inventoryIntervalMs : auditIntervalMs;
  const capacities = new Map<string, number | null>();
  const shares = new Map<string, number>();
  const nominal = new Map<string, { capacity: number | null; debt: number }>();
  for (const b of new Set(demands.map((d) => d.budget))) {
    const limit = limitOf(b);
    const share = backedOffShare(ctx.config.budget.share, await limitedRounds(ctx, b, o.at));
    shares.set(b, share);
    const auditCost = demands.filter((d) => d.budget === b && d.audit).reduce((s, d) => s + d.cost, 0);
    const capacity = limit ? roundCapacity({ share, requests: limit.requests, windowMs: limit.windowMs, intervalMs, auditIntervalMs, auditCost }) : null;
    const debt = capacity === null ? 0 : await overspent(ctx, b, o.at);
    nominal.set(b, { capacity, debt });
    capacities.set(b, capacity === null ? null : Math.max(0, capacity - debt));
  }
  const decisions = planBudgets(demands, capacities, inventoryIntervalMs).map((d) => ({ ...d, share: shares.get(d.budget)!, ...nominal.get(d.budget)! }));
  await recordRound(ctx, o.at, decisions, credentialsOf);
  const byStream = new Map(demands.map((d) => [d.stream, d]));
  const deferred = decisions.flatMap((d) => d.deferred);
  if (deferred.length) ctx.log.info({ deferred: deferred.length, budgets: decisions.map((d) => ({ budget: d.budget, capacity: d.capacity, planned: d.planned, needed: d.needed })) }, 'budget plan deferred streams to a later round');
  return { streams: order(decisions.flatMap((d) => d.streams.map((s) => byStream.get(s)!))), decisions };
}

async function recordRound(ctx: Context, at: Date, decisions: PlannedRound['decisions'], credentialsOf: (b: string) => Array<{ name: string }>): Promise<void> {
  const rows = decisions.filter((d) => d.capacity !== null).map((d) => ({
    roundAt: at, budget: d.budget, credentials: credentialsOf(d.budget).map((c) => c.name), share: d.share, capacity: d.capacity!,
    planned: d.planned, needed: d.needed, streamsPlanned: d.streams.length, deferred: d.deferred,
  }));
  // A second scheduler replica planning the same tick: the first record stands.
  if (rows.length) await ctx.db.insert(budgetRounds).values(rows).onConflictDoNothing();
}
