import type { Context } from '../context.js';
import { ensureIdentity } from '../credentials/identity.js';
import type { CredentialAccess } from '../credentials/types.js';
import { remediationActions, remediationPlans, type RemediationKind } from '../db/schema/index.js';
import { UsageError } from '../util/usage-error.js';
import { ActionRefused, type ActionSpec, buildAction } from './actions.js';
import { queueStepAlert } from './alerts.js';
import { approvalsNeeded } from './approve.js';
import type { PlanItem } from './select.js';
import { KINDS_FOR, resolveTarget, type Target, TargetError } from './targets.js';
import { readObject, UnreachableError, writeCredentialOf } from './write-client.js';

export interface PlanOptions {
  by: string;
  source: Record<string, unknown>;
  /** Overrides each item's action (where it fits the object). */
  action?: RemediationKind;
  /** set-expiry: how far from now the expiry goes (default 90 days). */
  expiresInMs?: number;
  note?: string;
}

export interface PlannedAction { target: Target; spec: ActionSpec; item: PlanItem; before: Record<string, unknown> }
export interface PlanResult { planId: number | null; credential: string; actions: PlannedAction[]; refused: Array<{ key: string; reason: string }> }

const DAY = 86_400_000;

/** The credential a plan names for its requests (and reads through): the write credential, or why there is none. */
export function planCredential(ctx: Pick<Context, 'config' | 'credentials'>): CredentialAccess {
  const c = writeCredentialOf(ctx.config, ctx.credentials);
  if (typeof c === 'string') throw new UsageError(`fix plan: ${c}`);
  return c;
}

async function planOne(ctx: Pick<Context, 'db' | 'config' | 'now'>, cred: CredentialAccess, item: PlanItem, opts: PlanOptions, writerUser: string | null): Promise<PlannedAction> {
  const target = await resolveTarget(ctx.db, item.key);
  const kind = opts.action ?? item.kind;
  if (!kind) throw new ActionRefused(`${item.key}: no action fits ${item.reason}; name one with --action`);
  if (!KINDS_FOR[target.type].includes(kind)) throw new ActionRefused(`${item.key}: ${kind} does not apply to a ${target.type}`);
  if (kind === 'token-roll' && !ctx.config.remediation.rollDestinations[target.resourceId]) {
    throw new ActionRefused(`${item.key}: not rolled: no destination for its new secret is configured (remediation.rollDestinations); flarewatch never prints or stores a secret`);
  }
  if (target.userId && writerUser && writerUser !== target.userId) {
    throw new ActionRefused(`${item.key}: not reachable by the write credential "${cred.name}": a user token of another user (only that user's own credential can change it); nothing planned`);
  }
  const read = await readObject(cred, target.path).catch((err: unknown) => {
    if (!(err instanceof UnreachableError)) throw err;
    throw new ActionRefused(`${item.key}: not reachable by the write credential "${cred.name}" (Cloudflare answers HTTP ${err.status} to GET ${err.path}); no credential flarewatch may write with can change it; nothing planned`);
  });
  if (!read.result) throw new ActionRefused(`${item.key}: gone (Cloudflare answers 404)`);
  const now = ctx.now().getTime();
  const expiresOn = new Date(now + (opts.expiresInMs ?? 90 * DAY)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const spec = buildAction(kind, target, read.result, { expiresOn, policies: item.policies, now });
  return { target, spec, item, before: read.result };
}

/**
 * Reads every object named by `items` through the write credential, builds the exact request for
 * each, and stores the plan with its actions in one transaction. Nothing is written to Cloudflare.
 */
export async function createPlan(ctx: Context, items: PlanItem[], opts: PlanOptions): Promise<PlanResult> {
  if (!opts.by.trim()) throw new UsageError('fix plan: --by names the planner (required)');
  const cred = planCredential(ctx);
  // Whose credential it is tells which user tokens it can reach at all; unknown (unverifiable), the reads say.
  const writerUser = (await ensureIdentity(ctx, cred).catch(() => cred.identity))?.userId ?? null;
  const actions: PlannedAction[] = [];
  const refused: PlanResult['refused'] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.key)) continue;
    seen.add(item.key);
    try {
      actions.push(await planOne(ctx, cred, item, opts, writerUser));
    } catch (err) {
      if (!(err instanceof ActionRefused || err instanceof TargetError)) throw err;
      refused.push({ key: item.key, reason: err.message });
    }
  }
  if (!actions.length) return { planId: null, credential: cred.name, actions, refused };
  const planId = await ctx.db.transaction(async (tx) => {
    const [plan] = await tx.insert(remediationPlans).values({ createdAt: ctx.now(), createdBy: opts.by, source: opts.source, credential: cred.name, note: opts.note ?? null }).returning();
    await tx.insert(remediationActions).values(actions.map((a, i) => ({
      planId: plan!.id, seq: i + 1, kind: a.spec.kind, objectKey: a.target.objectKey, accountId: a.target.accountId, resourceId: a.target.resourceId,
      label: a.target.label, readPath: a.target.path, method: a.spec.request.method, path: a.spec.request.path, body: a.spec.request.body ?? null,
      precondition: a.spec.precondition, before: a.before, credential: cred.name, reversible: a.spec.reversible, destructive: a.spec.destructive,
      findingId: a.item.findingId, reason: a.item.reason,
    })));
    const needed = approvalsNeeded(ctx.config, actions.map((a) => a.spec));
    if (needed > 0 && !opts.by.startsWith('policy:')) {
      await queueStepAlert(tx, ctx, { step: 'pending', subject: `plan-${plan!.id}`, title: `Remediation plan ${plan!.id} waits for ${needed} approval(s)`,
        resourceKey: `plan:${plan!.id}`, facts: { plan: plan!.id, planner: opts.by, actions: actions.length, approve: `npx flarewatch fix approve ${plan!.id} --by <who>` } });
    }
    return plan!.id;
  });
  return { planId, credential: cred.name, actions, refused };
}
