import type { Context } from '../context.js';
import { ensureIdentity } from '../credentials/identity.js';
import type { CredentialAccess } from '../credentials/types.js';
import type { RemediationAction } from '../db/schema/index.js';
import { UsageError } from '../util/usage-error.js';
import { reached, stateMoved, undoExpect, undoRequest } from './actions.js';
import { queueStepAlert, type RemediationStep } from './alerts.js';
import { approvalState, loadPlan } from './approve.js';
import { latestOutcome, type OutcomeRow, recordAttempt, recordOutcome, unresolvedAttempt } from './outcome.js';
import { deliverSecret } from './roll.js';
import { openWriteClient, readObject, type WriteClient, type WriteRequest, writeCredentialOf, WritesRefusedError, writesRefused } from './write-client.js';

type Obj = Record<string, unknown>;
type Status = OutcomeRow['status'];

export interface ApplyOptions {
  /** Called after each outcome commits (tests inject a crash here). */
  afterOutcome?: (action: RemediationAction, status: Status) => void | Promise<void>;
  /** Called once a request has been answered, before its outcome is recorded (tests inject a crash here). */
  afterSend?: (action: RemediationAction) => void | Promise<void>;
  /** A hygiene policy applying its own plan: its approval is the policy's. */
  by?: string;
}
/** Stops an apply where it is, recording nothing more (a stand-in for the process dying, and for a shutdown). */
export class ApplyInterrupted extends Error {
  override name = 'ApplyInterrupted';
}

export interface ActionResult { actionId: number; seq: number; kind: string; objectKey: string; status: Status | 'done' | 'not-undoable'; reason: string | null }

interface Run { ctx: Context; client: WriteClient; cred: CredentialAccess; tokenId: string | null; opts: ApplyOptions }

/** The fields the object is to have once the action is applied ('gone' for a removal). */
function expectOf(a: RemediationAction): Obj | 'gone' {
  const body = (a.body ?? {}) as Obj;
  switch (a.kind) {
    case 'token-disable': return { status: 'disabled' };
    case 'token-set-expiry': return { expires_on: body.expires_on };
    case 'token-narrow': return { policies: body.policies };
    case 'user-invite-reject': return { status: 'rejected' };
    case 'token-roll': return {};
    default: return 'gone';
  }
}

const read = async (run: Run, a: RemediationAction) => (await readObject(run.cred, a.readPath)).result;

async function send(run: Run, a: RemediationAction, req: WriteRequest) {
  if (a.kind !== 'token-roll') return run.client.send(req);
  const dest = run.ctx.config.remediation.rollDestinations[a.resourceId];
  if (!dest) throw new Error('no roll destination is configured for this token any more; nothing sent');
  return run.client.roll(req.path, (secret) => deliverSecret(dest, secret));
}

/** Reads, checks the precondition, sends (after committing the attempt), reads again. One action, one outcome row. */
async function applyAction(run: Run, a: RemediationAction): Promise<OutcomeRow> {
  const base = { actionId: a.id, phase: 'apply' as const, at: run.ctx.now() };
  const current = await read(run, a);
  const pending = await unresolvedAttempt(run.ctx.db, a.id, 'apply');
  const expect = expectOf(a);
  if (pending && a.kind !== 'token-roll' && reached(expect, current)) {
    return { ...base, attemptId: pending.id, status: 'applied', verified: true, afterState: current,
      reason: 'its send had started when flarewatch stopped; read again on resume, the change is in place (not sent again)' };
  }
  const moved = stateMoved(a.precondition as { modified_on: unknown; fields: Obj }, current);
  if (moved) return { ...base, status: 'skipped-state-moved', reason: `${pending ? 'its send had started when flarewatch stopped; ' : ''}${moved}; nothing sent`, beforeState: current };
  const req: WriteRequest = { method: a.method, path: a.path, ...(a.body === null ? {} : { body: a.body }) };
  const attemptId = await recordAttempt(run.ctx.db, a, 'apply', req, run.tokenId, run.ctx.now());
  const answer = await send(run, a, req);
  await run.opts.afterSend?.(a);
  if (answer.status >= 400) return { ...base, attemptId, status: 'failed', reason: `Cloudflare answered HTTP ${answer.status}`, beforeState: current, answer };
  const after = await read(run, a);
  const verified = reached(expect, after);
  return { ...base, attemptId, status: verified ? 'applied' : 'failed', verified, beforeState: current, answer, afterState: after,
    reason: verified ? null : 'sent, but the state read afterwards is not what the action intended' };
}

async function commit(run: Run, a: RemediationAction, row: OutcomeRow, step: RemediationStep | undefined): Promise<void> {
  await run.ctx.db.transaction(async (tx) => {
    await recordOutcome(tx, row);
    if (step) {
      await queueStepAlert(tx, run.ctx, { step, subject: `plan-${a.planId}-${a.seq}`, resourceKey: a.objectKey, resourceName: a.label, accountId: a.accountId,
        title: `${a.kind} ${a.label ?? a.objectKey} (plan ${a.planId}, action ${a.seq})`, facts: { plan: a.planId, action: a.seq, kind: a.kind, reason: row.reason ?? null, credential: a.credential } });
    }
  });
  await run.opts.afterOutcome?.(a, row.status);
}

const STEP: Partial<Record<Status, RemediationStep>> = { applied: 'applied', failed: 'failed', 'skipped-state-moved': 'skipped', undone: 'undone' };

async function open(ctx: Context, planId: number, opts: ApplyOptions, what: 'apply' | 'undo') {
  const refused = writesRefused(ctx.config, ctx.credentials);
  if (refused) throw new WritesRefusedError(`fix ${what}: ${refused}`);
  const p = await loadPlan(ctx.db, planId);
  const cred = writeCredentialOf(ctx.config, ctx.credentials) as CredentialAccess;
  if (cred.name !== p.plan.credential) throw new UsageError(`fix ${what}: plan ${planId} names credential "${p.plan.credential}", but writes go through "${cred.name}"; plan again`);
  const client = openWriteClient(ctx.config, ctx.credentials);
  const tokenId = await ensureIdentity(ctx, cred).then((id) => id.tokenId, () => null);
  return { p, run: { ctx, client, cred, tokenId, opts } satisfies Run };
}

/**
 * `fix apply`: every action of an approved plan, in order, each outcome committed before the next
 * send; what is already applied or skipped is not touched again; one failure never stops the rest.
 */
export async function applyPlan(ctx: Context, planId: number, opts: ApplyOptions = {}): Promise<ActionResult[]> {
  const { p, run } = await open(ctx, planId, opts, 'apply');
  const state = approvalState(ctx.config, p);
  if (!state.approved) throw new UsageError(`fix apply: plan ${planId} needs ${state.needed} approver(s) other than its planner ${p.plan.createdBy}; it has ${state.have.length} (fix approve ${planId} --by <who>)`);
  const results: ActionResult[] = [];
  for (const a of p.actions) {
    const last = await latestOutcome(ctx.db, a.id, 'apply');
    if (last && last.status !== 'failed') {
      results.push({ actionId: a.id, seq: a.seq, kind: a.kind, objectKey: a.objectKey, status: 'done', reason: `already ${last.status}` });
      continue;
    }
    let row: OutcomeRow;
    try {
      row = await applyAction(run, a);
    } catch (err) {
      if (err instanceof ApplyInterrupted) throw err;
      row = { actionId: a.id, phase: 'apply', at: ctx.now(), status: 'failed', reason: (err as Error).message };
    }
    await commit(run, a, row, STEP[row.status]);
    results.push({ actionId: a.id, seq: a.seq, kind: a.kind, objectKey: a.objectKey, status: row.status, reason: row.reason ?? null });
  }
  return results;
}

async function undoAction(run: Run, a: RemediationAction, appliedAfter: Obj | null): Promise<OutcomeRow> {
  const base = { actionId: a.id, phase: 'undo' as const, at: run.ctx.now() };
  const before = a.before as Obj;
  const expect = undoExpect(before);
  const current = await read(run, a);
  const pending = await unresolvedAttempt(run.ctx.db, a.id, 'undo');
  if (pending && reached(expect, current)) return { ...base, attemptId: pending.id, status: 'undone', verified: true, afterState: current, reason: 'resolved on resume: the before-state is in place' };
  const moved = stateMoved({ modified_on: appliedAfter?.modified_on ?? null, fields: {} }, current);
  if (moved) return { ...base, status: 'skipped-state-moved', reason: `${moved.replace('since the plan', 'since it was applied')}; nothing sent`, beforeState: current };
  const req = undoRequest(a.readPath, before);
  const attemptId = await recordAttempt(run.ctx.db, a, 'undo', req, run.tokenId, run.ctx.now());
  const answer = await run.client.send(req);
  if (answer.status >= 400) return { ...base, attemptId, status: 'failed', reason: `Cloudflare answered HTTP ${answer.status}`, beforeState: current, answer };
  const after = await read(run, a);
  const verified = reached(expect, after);
  return { ...base, attemptId, status: verified ? 'undone' : 'failed', verified, beforeState: current, answer, afterState: after,
    reason: verified ? null : 'sent, but the state read afterwards is not the recorded before-state' };
}

/** `fix undo`: restores every applied reversible action from its recorded before-state; deletions and removals cannot be. */
export async function undoPlan(ctx: Context, planId: number, opts: ApplyOptions = {}): Promise<ActionResult[]> {
  const { p, run } = await open(ctx, planId, opts, 'undo');
  const results: ActionResult[] = [];
  for (const a of p.actions) {
    const r = { actionId: a.id, seq: a.seq, kind: a.kind, objectKey: a.objectKey };
    const applied = await latestOutcome(ctx.db, a.id, 'apply');
    const undone = await latestOutcome(ctx.db, a.id, 'undo');
    if (!a.reversible) { results.push({ ...r, status: 'not-undoable', reason: 'irreversible (approved as such)' }); continue; }
    if (applied?.status !== 'applied') { results.push({ ...r, status: 'done', reason: 'never applied: nothing to undo' }); continue; }
    if (undone && undone.status !== 'failed') { results.push({ ...r, status: 'done', reason: `already ${undone.status}` }); continue; }
    let row: OutcomeRow;
    try {
      row = await undoAction(run, a, applied.afterState as Obj | null);
    } catch (err) {
      if (err instanceof ApplyInterrupted) throw err;
      row = { actionId: a.id, phase: 'undo', at: ctx.now(), status: 'failed', reason: (err as Error).message };
    }
    await commit(run, a, row, STEP[row.status]);
    results.push({ ...r, status: row.status, reason: row.reason ?? null });
  }
  return results;
}
