import { newTally } from '../cloudflare/client.js';
import type { Context } from '../context.js';
import { archivedPerDay, firstArchived, gapDays, verificationsOf } from '../db/queries/audit-verifications.js';
import { getSyncState } from '../db/queries/sync-state.js';
import type { AuditCheckpoint } from '../sync/audit-window.js';
import { AUDIT_KINDS, parseStream, validateSelection } from '../sync/catalog.js';
import { planInput, planRound } from '../sync/plan.js';
import { chooseWalker } from '../sync/walker.js';
import { dayOf, daysBetween, runsOf } from './days.js';
import { type AuditTarget, auditTarget } from './target.js';
import { type DayResult, repairDay, verifyDays } from './verify-days.js';
import { Budget, isBudgetStop, pageWalk } from './walk.js';

export interface VerifyOptions {
  /** Audit stream kinds or names; empty = every audit stream. */
  streams: string[];
  maxRequests: number;
  /** Refetch the days with gaps (found now or before) instead of only reporting them. */
  repair: boolean;
  /** Verify from this day (default: as far back as Cloudflare keeps entries, audit.backfill). */
  since?: Date | undefined;
  /** Only plan: report the days due and the request estimate, send nothing. */
  estimateOnly?: boolean;
}

export interface StreamVerification {
  stream: string;
  credential?: string;
  /** Why the stream was not verified (never archived a complete window, no credential). */
  skipped?: string;
  due: number;
  estimate: number;
  verified: DayResult[];
  repaired: DayResult[];
  /** Days still with a gap after this run (found now or earlier, not repaired). */
  gaps: DayResult[];
  requests: number;
}

export interface VerifyReport {
  budget: number;
  estimate: number;
  requests: number;
  /** The budget ran out before every due day was verified. */
  incomplete: boolean;
  streams: StreamVerification[];
}

interface Plan {
  stream: string;
  target?: AuditTarget;
  credential?: Awaited<ReturnType<typeof chooseWalker>>;
  due: string[];
  repair: string[];
  estimate: number;
  skipped?: string;
}

/** The days a stream needs verified: in range, and not verified OK within audit.verifyAgainAfter. */
async function planStream(ctx: Context, stream: string, opts: VerifyOptions): Promise<Plan> {
  const choice = await chooseWalker(ctx, parseStream(stream));
  if (!choice.ok) return { stream, due: [], repair: [], estimate: 0, skipped: choice.reason };
  const target = auditTarget(parseStream(stream), choice.identity)!;
  const watermark = ((await getSyncState(ctx.db, stream))?.checkpoint as AuditCheckpoint | null)?.watermark;
  if (!watermark) return { stream, due: [], repair: [], estimate: 0, skipped: 'no complete window archived yet' };
  const now = ctx.now().getTime();
  const floor = Math.max(now - ctx.config.audit.backfill, ctx.config.audit.since?.getTime() ?? -Infinity, opts.since?.getTime() ?? -Infinity);
  const first = await firstArchived(ctx.db, target.filter);
  // Days Cloudflare may still hold, up to the last whole day before the watermark (later ones are still being archived).
  const from = dayOf(first ? Math.max(floor, Math.min(first.getTime(), now)) : floor);
  const to = dayOf(Date.parse(watermark));
  const known = new Map((await verificationsOf(ctx.db, stream)).map((r) => [r.day, r]));
  const fresh = (day: string) => {
    const r = known.get(day);
    return r !== undefined && r.status !== 'gap' && now - r.verifiedAt.getTime() < ctx.config.audit.verifyAgainAfter;
  };
  const gaps = (await gapDays(ctx.db, stream)).map((g) => g.day);
  const due = daysBetween(from, to).filter((d) => !fresh(d) && !(opts.repair && gaps.includes(d)));
  const repair = opts.repair ? gaps : [];
  const archived = await archivedPerDay(ctx.db, target.filter, from, to);
  const page = ctx.config.audit.pageSize;
  const estimate = runsOf(due).reduce((s, run) => s + Math.ceil(run.reduce((n, d) => n + (archived.get(d) ?? 0), 0) / page) + 1, 0)
    + repair.reduce((s, d) => s + Math.ceil((known.get(d)?.api ?? 0) / page) + 1, 0);
  return { stream, target, credential: choice, due, repair, estimate };
}

/**
 * `audit verify`: check the archive against what Cloudflare holds now, day by day, for every audit
 * stream, within a request budget (paced by each credential's limiter like every request), and
 * with `repair` refetch exactly the days that have gaps.
 */
export async function runVerify(ctx: Context, opts: VerifyOptions): Promise<VerifyReport> {
  const selection = opts.streams.length ? opts.streams : AUDIT_KINDS;
  validateSelection(selection, ctx.config.cloudflare.credentials.map((c) => c.name));
  const streams = planRound(await planInput(ctx, selection)).streams.filter((s) => AUDIT_KINDS.includes(s.split(':', 1)[0]!));
  const plans: Plan[] = [];
  for (const s of streams) plans.push(await planStream(ctx, s, opts));
  const estimate = plans.reduce((s, p) => s + p.estimate, 0);
  const budget = new Budget(opts.maxRequests);
  const reports: StreamVerification[] = [];
  for (const p of plans) {
    const report: StreamVerification = { stream: p.stream, due: p.due.length, estimate: p.estimate, verified: [], repaired: [], gaps: [], requests: 0, skipped: p.skipped };
    reports.push(report);
    if (p.skipped || opts.estimateOnly || !p.credential?.ok) continue;
    report.credential = p.credential.credential.name;
    const tally = newTally();
    const pw = pageWalk(ctx, p.stream, p.credential.credential, budget, tally);
    try {
      for (const run of runsOf(p.due)) {
        if (budget.exhausted) break;
        report.verified.push(...(await verifyDays(ctx, pw, p.target!, run, (err) => isBudgetStop(err, budget))));
      }
      for (const day of p.repair) {
        if (budget.exhausted) break;
        report.repaired.push(await repairDay(ctx, pw, p.target!, day));
      }
    } catch (err) {
      if (!isBudgetStop(err, budget)) throw err;
    }
    report.requests = tally.requests;
    report.gaps = (await gapDays(ctx.db, p.stream)).map((g) => ({ day: g.day, archived: g.archived, api: g.api, missing: g.missing, status: 'gap' as const }));
  }
  const verifiedAll = reports.every((r) => r.skipped || opts.estimateOnly || (r.verified.length === r.due && r.repaired.length >= plans.find((p) => p.stream === r.stream)!.repair.length));
  return { budget: opts.maxRequests, estimate, requests: budget.used, incomplete: !verifiedAll, streams: reports };
}


