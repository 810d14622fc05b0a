import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { remediationAttempts, remediationOutcomes, type RemediationAction } from '../db/schema/index.js';

// The record of sends: an attempt row committed before a request leaves, an outcome row after.

export type OutcomeRow = typeof remediationOutcomes.$inferInsert;

export async function latestOutcome(tx: Tx, actionId: number, phase: 'apply' | 'undo') {
  const [o] = await tx.select().from(remediationOutcomes)
    .where(and(eq(remediationOutcomes.actionId, actionId), eq(remediationOutcomes.phase, phase))).orderBy(desc(remediationOutcomes.id)).limit(1);
  return o;
}

/** An attempt of this phase with no outcome: a send that started and whose result was never recorded. */
export async function unresolvedAttempt(tx: Tx, actionId: number, phase: 'apply' | 'undo') {
  const [a] = await tx.select({ id: remediationAttempts.id }).from(remediationAttempts)
    .leftJoin(remediationOutcomes, eq(remediationOutcomes.attemptId, remediationAttempts.id))
    .where(and(eq(remediationAttempts.actionId, actionId), eq(remediationAttempts.phase, phase), isNull(remediationOutcomes.id)))
    .orderBy(desc(remediationAttempts.id)).limit(1);
  return a;
}

export async function recordAttempt(tx: Tx, a: RemediationAction, phase: 'apply' | 'undo', request: unknown, tokenId: string | null, at: Date): Promise<number> {
  const [row] = await tx.insert(remediationAttempts).values({ actionId: a.id, phase, startedAt: at, request, credential: a.credential, credentialTokenId: tokenId }).returning({ id: remediationAttempts.id });
  return row!.id;
}

export async function recordOutcome(tx: Tx, row: OutcomeRow): Promise<void> {
  await tx.insert(remediationOutcomes).values(row);
}

/** How many sends each action of a plan has recorded (for `fix show`). */
export async function attemptCounts(tx: Tx, planId: number): Promise<Map<number, number>> {
  const { rows } = await tx.execute<{ action_id: string; n: number }>(sql`
    select t.action_id, count(*)::int as n from remediation_attempts t join remediation_actions a on a.id = t.action_id
    where a.plan_id = ${planId} group by t.action_id`);
  return new Map(rows.map((r) => [Number(r.action_id), r.n]));
}
