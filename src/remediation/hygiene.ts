import type { Context } from '../context.js';
import { remediationApprovals, remediationNoticeEvents, remediationNotices, type RemediationKind } from '../db/schema/index.js';
import { applyPlan } from './apply.js';
import { queueStepAlert } from './alerts.js';
import type { HygienePolicy } from '../config/remediation.js';
import { candidates, type OpenNotice, openNotices } from './hygiene-queries.js';
import { ownerEmailSink } from './owner-notice.js';
import { createPlan } from './plan.js';
import { writesRefused } from './write-client.js';

/**
 * Hygiene policies, run by their own job (remediation.hygiene, daily by default) and `fix hygiene`: notice first ("will be disabled on <date> unless it is
 * used or excepted"), then on the date a plan, applied at once where the policy says auto: true (the
 * policy is its approval), else left for people to approve. A use of the token, the finding
 * resolving or being suppressed, or `fix except` cancels a notice. Each step is a row and an alert.
 */

const KIND: Record<HygienePolicy['action'], RemediationKind> = { disable: 'token-disable', delete: 'token-delete', 'set-expiry': 'token-set-expiry' };
const VERB: Record<HygienePolicy['action'], string> = { disable: 'disabled', delete: 'deleted', 'set-expiry': 'given an expiry' };
const policyKey = (p: HygienePolicy) => `${p.rule}:${p.action}`;
const day = (d: Date) => d.toISOString().slice(0, 10);

export interface HygieneResult { noticed: number; cancelled: number; planned: number; applied: number }

function cancellation(n: OpenNotice): string | undefined {
  if (n.token_gone) return 'the token is gone';
  if (n.token_last_used && (!n.last_used_on || new Date(n.token_last_used) > new Date(n.last_used_on))) return `the token was used on ${new Date(n.token_last_used).toISOString()}`;
  if (n.finding_status !== 'open') return 'it no longer matches the rule (its finding resolved)';
  if (n.suppressed) return 'its finding is suppressed';
  if (n.exception) return `excepted by ${n.exception}`;
  return undefined;
}

async function giveNotices(ctx: Context, p: HygienePolicy, r: HygieneResult): Promise<void> {
  const now = ctx.now();
  for (const c of await candidates(ctx.db, p.rule, policyKey(p), now)) {
    const due = new Date(c.first_seen_at).getTime() + p.after;
    if (now.getTime() < due - p.notice) continue;
    const actOn = new Date(Math.max(due, now.getTime() + p.notice));
    await ctx.db.transaction(async (tx) => {
      await tx.insert(remediationNotices).values({ policy: policyKey(p), objectKey: c.resource_key, findingId: Number(c.finding_id), noticeAt: now, actOn,
        ownerEmail: c.owner_email, lastUsedOn: c.last_used_on ? new Date(c.last_used_on) : null, facts: { name: c.resource_name, auto: p.auto } });
      await queueStepAlert(tx, ctx, { step: 'notice', subject: `notice-${policyKey(p)}-${c.finding_id}`, resourceKey: c.resource_key, resourceName: c.resource_name, accountId: c.account_id, owner: c.owner_email,
        title: `${c.resource_name ?? c.resource_key} will be ${VERB[p.action]} on ${day(actOn)} unless it is used or excepted`,
        facts: { notify: c.owner_email, act_on: actOn.toISOString(), policy: policyKey(p), auto: p.auto, except: `npx flarewatch fix except ${c.resource_key} --reason ... --by ...` } });
    });
    r.noticed++;
  }
}

async function actOnNotice(ctx: Context, p: HygienePolicy, n: OpenNotice, r: HygieneResult): Promise<void> {
  const event = (kind: 'planned' | 'applied' | 'failed', reason: string | null, planId: number | null) =>
    ctx.db.insert(remediationNoticeEvents).values({ noticeId: Number(n.id), kind, reason, planId, at: ctx.now() });
  const by = `policy:${policyKey(p)}`;
  const plan = await createPlan(ctx, [{ key: n.object_key, kind: KIND[p.action], findingId: Number(n.finding_id), reason: `hygiene policy ${policyKey(p)}, notice ${n.id}` }],
    { by, source: { policy: { ...p, notice: n.id } }, expiresInMs: p.expiresIn });
  if (plan.planId === null) {
    await event('planned', `not planned: ${plan.refused.map((x) => x.reason).join('; ')}`, null);
    return;
  }
  await event('planned', p.auto ? 'applied with the policy as its approval' : 'waits for approval (auto: false)', plan.planId);
  r.planned++;
  if (!p.auto) {
    await queueStepAlert(ctx.db, ctx, { step: 'pending', subject: `plan-${plan.planId}`, resourceKey: n.object_key,
      title: `Hygiene plan ${plan.planId} (${policyKey(p)}) waits for approval`, facts: { plan: plan.planId, approve: `npx flarewatch fix approve ${plan.planId} --by <who>` } });
    return;
  }
  await ctx.db.insert(remediationApprovals).values({ planId: plan.planId, approvedBy: by, approvedAt: ctx.now(), via: 'policy', note: `auto: true, notice ${n.id} given` });
  const results = await applyPlan(ctx, plan.planId);
  const ok = results.every((x) => x.status === 'applied');
  await event(ok ? 'applied' : 'failed', results.map((x) => `${x.objectKey}: ${x.status}${x.reason ? ` (${x.reason})` : ''}`).join('; '), plan.planId);
  if (ok) r.applied++;
}

async function followNotices(ctx: Context, p: HygienePolicy, r: HygieneResult): Promise<void> {
  const now = ctx.now();
  for (const n of await openNotices(ctx.db, policyKey(p), p.rule, now)) {
    const why = cancellation(n);
    if (why) {
      await ctx.db.transaction(async (tx) => {
        await tx.insert(remediationNoticeEvents).values({ noticeId: Number(n.id), kind: 'cancelled', reason: why, at: now });
        await queueStepAlert(tx, ctx, { step: 'cancelled', subject: `notice-${n.id}`, resourceKey: n.object_key, owner: n.owner_email,
          title: `${n.object_key} will not be ${VERB[p.action]}: ${why}`, facts: { notify: n.owner_email, policy: policyKey(p), reason: why } });
      });
      r.cancelled++;
    } else if (now.getTime() >= new Date(n.act_on).getTime()) {
      await actOnNotice(ctx, p, n, r);
    }
  }
}

/** Every policy once: follow up the notices already given (cancel or act), then give the notices now due. */
export async function runHygiene(ctx: Context): Promise<HygieneResult> {
  const r: HygieneResult = { noticed: 0, cancelled: 0, planned: 0, applied: 0 };
  const policies = ctx.config.remediation.policies;
  if (!policies.length) return r;
  const off = writesRefused(ctx.config, ctx.credentials);
  if (off) {
    ctx.log.warn({ policies: policies.length }, `hygiene policies not run: ${off}`);
    return r;
  }
  const owners = ownerEmailSink(ctx.config);
  if (typeof owners === 'string' && ctx.config.remediation.ownerEmailSink) ctx.log.error(`hygiene notices go to the sinks only, not to token owners: ${owners}`);
  for (const p of policies) {
    await followNotices(ctx, p, r);
    await giveNotices(ctx, p, r);
  }
  if (r.noticed + r.cancelled + r.planned) ctx.log.info(r, 'hygiene policies');
  return r;
}
