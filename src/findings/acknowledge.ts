// Acknowledging a detection: a person says "seen, handled". The detection is resolved with
// reason 'acknowledged', who and their note, in one transaction with what `onTransitions`
// writes (the outbox: the incident it opened resolves, chat gets a one-line notice).
import type { Context } from '../context.js';
import { insertFindingEvents, lockRuleFindings, resolveFinding } from '../db/queries/findings.js';
import { findingById, resolutionSinks } from '../db/queries/findings-read.js';
import type { Finding } from '../db/schema/index.js';
import type { OnTransitions } from '../rules/rule-run.js';
import type { Transition } from './apply.js';
import { REASONS } from './reasons.js';

export class AcknowledgeError extends Error {
  override name = 'AcknowledgeError';
}

export interface Acknowledged {
  id: number;
  ruleId: string;
  resourceKey: string;
  /** Sinks the resolution was queued for (the sinks of its alert episode that hear it). */
  sinks: string[];
}

const transitionOf = (f: Finding, by: string, note: string | null, at: Date): Transition => ({
  findingId: f.id, fingerprint: f.fingerprint, ruleId: f.ruleId, title: f.title, kind: f.kind,
  resourceKey: f.resourceKey, resourceType: f.resourceType, resourceName: f.resourceName, accountId: f.accountId,
  transition: 'resolved', fromSeverity: f.severity, toSeverity: null, severity: f.severity, suppressed: f.suppressed,
  reason: REASONS.acknowledged, by, note, at,
});

/** Acknowledge one open detection. Throws AcknowledgeError for anything else (unknown id, a state finding, already closed). */
export async function acknowledge(
  ctx: Pick<Context, 'db' | 'now'>, id: number, who: { by: string; note: string | null }, onTransitions?: OnTransitions,
): Promise<Acknowledged> {
  const { by, note } = who;
  if (!by.trim()) throw new AcknowledgeError('an acknowledgement needs --by (who acknowledges it)');
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const peek = await findingById(tx, id);
    if (!peek) throw new AcknowledgeError(`no finding ${id}`);
    // The rule's findings lock first (as a check run takes it), then the row.
    await lockRuleFindings(tx, peek.ruleId);
    const f = (await findingById(tx, id, true))!;
    if (f.kind !== 'detection') {
      throw new AcknowledgeError(`finding ${id} (${f.ruleId}) is a state finding: it resolves when the problem is fixed; to accept it as it is, suppress it: npx flarewatch suppress ${f.ruleId} '${f.resourceKey}' --reason "…"`);
    }
    if (f.status !== 'open') throw new AcknowledgeError(`finding ${id} is already resolved (${f.resolutionReason ?? 'resolved'}${f.resolvedBy ? ` by ${f.resolvedBy}` : ''})`);
    const t = transitionOf(f, by.trim(), note?.trim() || null, now);
    await resolveFinding(tx, id, { reason: REASONS.acknowledged, by: t.by, note: t.note }, now);
    await insertFindingEvents(tx, [{ findingId: id, fingerprint: f.fingerprint, transition: 'resolved', fromSeverity: f.severity, toSeverity: null, facts: f.facts as Record<string, unknown>, reason: t.reason!, by: t.by, note: t.note }], null, now);
    await onTransitions?.(tx, [t], { ruleId: f.ruleId, firstCheck: false, baseline: false, fresh: { accounts: new Set(), user: false } });
    return { id, ruleId: f.ruleId, resourceKey: f.resourceKey, sinks: await resolutionSinks(tx, id) };
  });
}
