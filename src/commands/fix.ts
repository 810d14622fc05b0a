import { desc, sql } from 'drizzle-orm';
import type { Context } from '../context.js';
import { remediationExceptions, remediationPlans, type RemediationKind } from '../db/schema/index.js';
import { type ActionResult, applyPlan, undoPlan } from '../remediation/apply.js';
import { approvalState, approvePlan, loadPlan } from '../remediation/approve.js';
import { createPlan, type PlanResult } from '../remediation/plan.js';
import { type FindingFilter, itemsFromFindings, itemsFromReview, type PlanItem } from '../remediation/select.js';
import { writesRefused } from '../remediation/write-client.js';
import { runHygiene } from '../remediation/hygiene.js';
import { withStreamLock } from '../sync/stream-lock.js';
import { runAlerts } from '../alerts/deliver.js';
import type { Severity } from '../rules/types.js';
import { UsageError } from '../util/usage-error.js';
import { formatTable, isoOrEmpty, safeText } from './findings-format.js';
import { formatPlan } from './fix-format.js';

type Result = { output: string; exitCode: number };
const json = (v: unknown): Result => ({ output: JSON.stringify(v, null, 2), exitCode: 0 });

export interface FixPlanOptions {
  by: string; rule?: string[]; finding?: number[]; severity?: Severity; control?: string;
  review?: number | boolean; object?: string[]; action?: RemediationKind; expiresInMs?: number; note?: string; json?: boolean;
}

export async function fixPlanCommand(ctx: Context, o: FixPlanOptions): Promise<Result> {
  const filter: FindingFilter = { rule: o.rule, finding: o.finding, severity: o.severity, control: o.control };
  const byFindings = Boolean(o.rule || o.finding || o.severity || o.control);
  if (!byFindings && o.review === undefined && !o.object?.length) throw new UsageError('fix plan: say what to fix: --rule, --finding, --severity, --control, --review or --object');
  const items: PlanItem[] = [];
  const source: Record<string, unknown> = {};
  if (byFindings) { items.push(...await itemsFromFindings(ctx, filter)); source.findings = filter; }
  if (o.review !== undefined) {
    const r = await itemsFromReview(ctx, typeof o.review === 'number' ? o.review : undefined);
    items.push(...r.items);
    source.review = r.reviewId;
  }
  for (const key of o.object ?? []) items.push({ key, kind: o.action, findingId: null, reason: `asked for by ${o.by}` });
  if (o.object?.length) source.objects = o.object;
  const result = await createPlan(ctx, items, { by: o.by, source, action: o.action, expiresInMs: o.expiresInMs, note: o.note });
  if (o.json) return json(result);
  return { output: planOutput(ctx, result), exitCode: result.planId === null && result.refused.length ? 1 : 0 };
}

function planOutput(ctx: Pick<Context, 'config' | 'credentials' | 'columns'>, r: PlanResult): string {
  const lines: string[] = [];
  if (r.planId === null) lines.push('nothing planned');
  else {
    lines.push(`plan ${r.planId}: ${r.actions.length} action(s), every request sent by credential "${r.credential}"`);
    lines.push(formatTable(['#', 'action', 'object', 'request', 'reversible'], r.actions.map((a, i) => [
      String(i + 1), a.spec.kind, safeText(a.target.label ?? a.target.objectKey), `${a.spec.request.method} ${a.spec.request.path}`, a.spec.reversible ? 'yes' : 'NO']), { width: ctx.columns, flex: ['object', 'request'] }));
  }
  for (const x of r.refused) lines.push(`not planned: ${safeText(x.reason)}`);
  const off = writesRefused(ctx.config, ctx.credentials);
  // One command a line, each pasteable as printed; what needs a name to fill in is a comment.
  if (r.planId !== null) lines.push('next:', `  npx flarewatch fix show ${r.planId}`, `  # someone else approves: npx flarewatch fix approve ${r.planId} --by <their name>`, `  # then: npx flarewatch fix apply ${r.planId}`);
  if (off) lines.push(`note: ${off}`);
  return lines.join('\n');
}

export async function fixShowCommand(ctx: Context, planId: number, asJson: boolean): Promise<Result> {
  const p = await loadPlan(ctx.db, planId);
  const { rows } = await ctx.db.execute<{ id: string; apply_status: string | null; apply_reason: string | null; undo_status: string | null }>(
    sql`select id, apply_status, apply_reason, undo_status from remediation_action_status where plan_id = ${planId}`);
  const status = new Map(rows.map((r) => [Number(r.id), r]));
  const approval = approvalState(ctx.config, p);
  if (asJson) return json({ ...p, approval, status: Object.fromEntries(status) });
  return { output: formatPlan(p, approval, status, ctx.columns), exitCode: 0 };
}

export async function fixApproveCommand(ctx: Context, planId: number, by: string, o: { acceptIrreversible?: boolean; note?: string }): Promise<Result> {
  const s = await approvePlan(ctx, planId, by, o);
  const left = Math.max(0, s.needed - s.have.length);
  return { output: `plan ${planId} approved by ${safeText(by)}; ${left ? `${left} more approver(s) needed` : `ready:\n  npx flarewatch fix apply ${planId}`}`, exitCode: 0 };
}

function resultsOutput(what: string, planId: number, results: ActionResult[], width: number | undefined): Result {
  const rows = results.map((r) => [String(r.seq), r.kind, safeText(r.objectKey), r.status, safeText(r.reason ?? '')]);
  const failed = results.some((r) => r.status === 'failed');
  return { output: `${what} plan ${planId}:\n${formatTable(['#', 'action', 'object', 'outcome', 'reason'], rows, { width, flex: ['reason', 'object'] })}`, exitCode: failed ? 1 : 0 };
}

export async function fixApplyCommand(ctx: Context, planId: number, asJson: boolean): Promise<Result> {
  const results = await applyPlan(ctx, planId);
  return asJson ? json(results) : resultsOutput('apply', planId, results, ctx.columns);
}

export async function fixUndoCommand(ctx: Context, planId: number, asJson: boolean): Promise<Result> {
  const results = await undoPlan(ctx, planId);
  return asJson ? json(results) : resultsOutput('undo', planId, results, ctx.columns);
}

export async function fixHistoryCommand(ctx: Pick<Context, 'db' | 'columns'>, asJson: boolean): Promise<Result> {
  const { rows } = await ctx.db.execute<{ id: number; created_at: Date; created_by: string; credential: string; actions: number; approvals: number; applied: number; skipped: number; failed: number; undone: number }>(sql`
    select p.id, p.created_at, p.created_by, p.credential,
      (select count(*)::int from remediation_actions a where a.plan_id = p.id) as actions,
      (select count(*)::int from remediation_approvals v where v.plan_id = p.id) as approvals,
      (select count(*)::int from remediation_action_status s where s.plan_id = p.id and s.apply_status = 'applied') as applied,
      (select count(*)::int from remediation_action_status s where s.plan_id = p.id and s.apply_status like 'skipped%') as skipped,
      (select count(*)::int from remediation_action_status s where s.plan_id = p.id and s.apply_status = 'failed') as failed,
      (select count(*)::int from remediation_action_status s where s.plan_id = p.id and s.undo_status = 'undone') as undone
    from ${remediationPlans} p order by p.id desc`);
  if (asJson) return json(rows);
  if (!rows.length) return { output: 'no remediation plans yet (npx flarewatch fix plan makes one)', exitCode: 0 };
  return { output: formatTable(['plan', 'created', 'by', 'credential', 'actions', 'approvals', 'applied', 'skipped', 'failed', 'undone'], rows.map((r) => [
    String(r.id), isoOrEmpty(new Date(r.created_at)), safeText(r.created_by), r.credential, ...[r.actions, r.approvals, r.applied, r.skipped, r.failed, r.undone].map(String)]), { width: ctx.columns }), exitCode: 0 };
}

export async function fixExceptCommand(ctx: Pick<Context, 'db' | 'now' | 'columns'>, key: string, o: { rule?: string; reason?: string; by?: string; expiresAt?: Date; list?: boolean }): Promise<Result> {
  if (o.list) {
    const rows = await ctx.db.select().from(remediationExceptions).orderBy(desc(remediationExceptions.id));
    return { output: rows.length ? formatTable(['id', 'object', 'rule', 'by', 'reason', 'expires'], rows.map((r) => [String(r.id), safeText(r.objectKey), r.rule ?? '*', safeText(r.createdBy), safeText(r.reason), isoOrEmpty(r.expiresAt)]), { width: ctx.columns, flex: ['reason', 'object'] }) : 'no exceptions', exitCode: 0 };
  }
  if (!/^(token|member|invite):/.test(key)) throw new UsageError(`fix except: ${key} is not an object key (token:<id>, member:<account>:<id>, invite:<id>)`);
  if (!o.reason?.trim()) throw new UsageError('fix except: --reason says why the object is left alone (required)');
  if (!o.by?.trim()) throw new UsageError('fix except: --by names who decides (required)');
  await ctx.db.insert(remediationExceptions).values({ objectKey: key, rule: o.rule ?? null, reason: o.reason, createdBy: o.by, createdAt: ctx.now(), expiresAt: o.expiresAt ?? null });
  return { output: `hygiene policies${o.rule ? ` of rule ${o.rule}` : ''} leave ${safeText(key)} alone${o.expiresAt ? ` until ${isoOrEmpty(o.expiresAt)}` : ''}`, exitCode: 0 };
}

/** `fix hygiene`: the hygiene policies once, as the remediation.hygiene job runs them, then their alerts delivered. */
export async function fixHygieneCommand(ctx: Context, asJson: boolean): Promise<Result> {
  if (!ctx.config.remediation.policies.length) return { output: 'no hygiene policies (remediation.policies) are configured', exitCode: 0 };
  const r = await withStreamLock(ctx.db, 'remediation-hygiene', () => runHygiene(ctx));
  if (!r) throw new UsageError('fix hygiene: another process is running the hygiene policies now; try again when it is done');
  if (r.noticed + r.cancelled + r.planned) await runAlerts(ctx);
  if (asJson) return json(r);
  return { output: `hygiene policies: ${r.noticed} notice(s) given, ${r.cancelled} cancelled, ${r.planned} plan(s) made, ${r.applied} applied`, exitCode: 0 };
}
