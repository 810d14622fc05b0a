import type { Tx } from '../db/client.js';
import { deletedAccounts, insertFindingEvents, insertFindings, lockRuleFindings, ruleFindings, touchFindings, updateFindings } from '../db/queries/findings.js';
import type { TransitionKind } from '../db/schema/finding-events.js';
import type { FindingKind } from '../db/schema/findings.js';
import type { RuleHit, Severity } from '../rules/types.js';
import { fingerprint } from './fingerprint.js';
import { type ExistingFinding, planFindings, type PreparedHit } from './plan.js';
import { accountGone } from './reasons.js';
import { matchSuppression, type SuppressionRule } from './suppression-match.js';

/** One transition written to finding_events: what the alerts stage turns into outbox rows. */
export interface Transition {
  findingId: number;
  fingerprint: string;
  ruleId: string;
  title: string;
  kind: FindingKind;
  resourceKey: string;
  resourceType: string;
  resourceName: string | null;
  accountId: string | null;
  transition: TransitionKind;
  fromSeverity: Severity | null;
  toSeverity: Severity | null;
  /** The finding's severity after the transition. */
  severity: Severity;
  /** The finding is suppressed after the transition. */
  suppressed: boolean;
  facts: Record<string, unknown>;
  /** resolved / suppressed: why, by whom, with what note. */
  reason: string | null;
  by: string | null;
  note: string | null;
  at: Date;
}

export interface RuleResult {
  ruleId: string;
  title: string;
  kind: FindingKind;
  /** The rule's default severity, for hits that bring none. */
  severity: Severity;
  /** From config: replaces every hit's own severity. */
  severityOverride?: Severity;
  hits: RuleHit[];
  /** Resolve every open finding with this reason, whatever the hits (rule disabled, rule removed). */
  retireAll?: string;
  /** A reason to resolve an open finding of a key the rule no longer produces. */
  retire?: (resourceKey: string) => string | undefined;
}

/** A suppression with what is recorded when it applies. */
export interface SuppressionWithReason extends SuppressionRule {
  reason: string;
  createdBy: string | null;
}

export interface ApplyOptions {
  suppressions: SuppressionWithReason[];
  now: Date;
  checkRunId: number | null;
}

const isoOf = (v: string | Date | null | undefined) => (v == null ? null : new Date(v).toISOString());

export function prepareHits(result: RuleResult, suppressions: SuppressionRule[], now: Date): PreparedHit[] {
  return result.hits.map((h) => ({
    fingerprint: fingerprint(result.ruleId, h.resourceKey),
    resourceKey: h.resourceKey,
    resourceType: h.resourceType,
    resourceName: h.resourceName ?? null,
    accountId: h.accountId ?? null,
    severity: result.severityOverride ?? h.severity ?? result.severity,
    facts: h.facts ?? {},
    suppressionId: matchSuppression(suppressions, result.ruleId, h.resourceKey, now)?.id ?? null,
    lastEventAt: isoOf(h.lastEventAt),
  }));
}

/** "account <id> <why>" for open findings whose account row is deleted. */
async function vanishedReasons(tx: Tx, existing: ExistingFinding[]): Promise<(f: ExistingFinding) => string | undefined> {
  const ids = [...new Set(existing.filter((f) => f.status === 'open' && f.accountId).map((f) => f.accountId!))];
  const deleted = await deletedAccounts(tx, ids);
  return (f) => (f.accountId && deleted.has(f.accountId) ? accountGone(f.accountId, deleted.get(f.accountId)) : undefined);
}

/**
 * The one place finding transitions are written. Call it inside the transaction that
 * should hold them: the alerts stage writes its outbox rows from the returned list in
 * the same transaction, so a transition and its alert commit together or not at all.
 * Only call it for a rule that evaluated successfully (or with `retireAll`): absent hits resolve state findings.
 */
export async function applyRuleResult(tx: Tx, result: RuleResult, opts: ApplyOptions): Promise<Transition[]> {
  await lockRuleFindings(tx, result.ruleId);
  const existing = await ruleFindings(tx, result.ruleId);
  const byId = new Map(opts.suppressions.map((s) => [s.id, s]));
  const plan = planFindings(existing, prepareHits(result, opts.suppressions, opts.now), {
    kind: result.kind,
    coveredBy: (f) => matchSuppression(opts.suppressions, result.ruleId, f.resourceKey, opts.now)?.id ?? null,
    suppression: (id) => {
      const s = byId.get(id);
      return s && { reason: s.reason, by: s.createdBy };
    },
    retire: (f) => result.retireAll ?? result.retire?.(f.resourceKey),
    vanished: await vanishedReasons(tx, existing),
  });
  const ids = await insertFindings(tx, result.ruleId, result.title, plan.inserts, opts.now);
  // Most open findings are unchanged run after run: those need only last_seen_at, not a full row rewrite.
  await updateFindings(tx, result.title, plan.updates.filter((w) => w.changed), opts.now);
  await touchFindings(tx, result.title, plan.updates.filter((w) => !w.changed && w.seen).map((w) => w.id!), opts.now);
  for (const f of existing) ids.set(f.fingerprint, f.id);
  const rows = new Map([...plan.inserts, ...plan.updates].map((w) => [w.fingerprint, w]));
  const events = plan.events.map((e) => ({ ...e, findingId: ids.get(e.fingerprint)! }));
  await insertFindingEvents(tx, events, opts.checkRunId, opts.now);
  return events.map((e) => {
    const w = rows.get(e.fingerprint)!;
    return {
      findingId: e.findingId,
      fingerprint: e.fingerprint,
      ruleId: result.ruleId,
      title: result.title,
      kind: result.kind,
      resourceKey: w.resourceKey,
      resourceType: w.resourceType,
      resourceName: w.resourceName,
      accountId: w.accountId,
      transition: e.transition,
      fromSeverity: e.fromSeverity,
      toSeverity: e.toSeverity,
      severity: w.severity,
      suppressed: w.suppressed,
      facts: e.facts,
      reason: e.reason ?? null,
      by: e.by ?? null,
      note: e.note ?? null,
      at: opts.now,
    };
  });
}
