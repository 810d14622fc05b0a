import { asc, eq } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Context } from '../context.js';
import type { Tx } from '../db/client.js';
import { remediationActions, remediationApprovals, remediationPlans } from '../db/schema/index.js';
import { UsageError } from '../util/usage-error.js';

/**
 * Approvals other than the planner's a plan needs: a plan with a destructive action needs
 * `remediation.approvals` people in all, the planner being one of them (default 2: one more);
 * a plan with none needs only its planner.
 */
export function approvalsNeeded(config: Config, actions: Array<{ destructive: boolean }>): number {
  return actions.some((a) => a.destructive) ? Math.max(0, config.remediation.approvals - 1) : 0;
}

export async function loadPlan(tx: Tx, planId: number) {
  const [plan] = await tx.select().from(remediationPlans).where(eq(remediationPlans.id, planId));
  if (!plan) throw new UsageError(`no remediation plan ${planId} (fix history lists them)`);
  const actions = await tx.select().from(remediationActions).where(eq(remediationActions.planId, planId)).orderBy(asc(remediationActions.seq));
  const approvals = await tx.select().from(remediationApprovals).where(eq(remediationApprovals.planId, planId)).orderBy(asc(remediationApprovals.id));
  return { plan, actions, approvals };
}

export type LoadedPlan = Awaited<ReturnType<typeof loadPlan>>;

/** Whether the plan may be applied: enough distinct approvers other than its planner, or a policy's approval. */
export function approvalState(config: Config, p: LoadedPlan): { approved: boolean; needed: number; have: string[] } {
  const needed = approvalsNeeded(config, p.actions);
  if (p.approvals.some((a) => a.via === 'policy')) return { approved: true, needed, have: ['policy'] };
  const planner = p.plan.createdBy.toLowerCase();
  const have = [...new Set(p.approvals.filter((a) => a.approvedBy.toLowerCase() !== planner).map((a) => a.approvedBy.toLowerCase()))];
  return { approved: have.length >= needed, needed, have };
}

/** `fix approve`: one more approver; the planner cannot approve, irreversible actions must be accepted as such. */
export async function approvePlan(ctx: Pick<Context, 'db' | 'config' | 'now'>, planId: number, by: string, opts: { acceptIrreversible?: boolean; note?: string } = {}) {
  if (!by.trim()) throw new UsageError('fix approve: --by names who approves (required)');
  return ctx.db.transaction(async (tx) => {
    const p = await loadPlan(tx, planId);
    if (p.plan.createdBy.toLowerCase() === by.trim().toLowerCase()) throw new UsageError(`fix approve: ${by} planned plan ${planId}; a planner cannot approve their own plan`);
    const irreversible = p.actions.filter((a) => !a.reversible);
    if (irreversible.length && !opts.acceptIrreversible) {
      throw new UsageError(`fix approve: plan ${planId} has ${irreversible.length} irreversible action(s) (${irreversible.map((a) => `${a.kind} ${a.objectKey}`).join(', ')}); approve them as such with --accept-irreversible`);
    }
    if (p.approvals.some((a) => a.approvedBy.toLowerCase() === by.trim().toLowerCase())) throw new UsageError(`fix approve: ${by} already approved plan ${planId}`);
    await tx.insert(remediationApprovals).values({ planId, approvedBy: by.trim(), approvedAt: ctx.now(), via: 'person', note: opts.note ?? null });
    return approvalState(ctx.config, await loadPlan(tx, planId));
  });
}
