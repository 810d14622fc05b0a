import type { SQL } from 'drizzle-orm';
import type { DayFacts, FactsQuery } from '../rules/facts-query.js';
import type { Tx } from '../db/client.js';
import { stageHits, stageHitsFromQuery, type StagedHit } from '../db/queries/finding-hits.js';
import { lockRuleFindings } from '../db/queries/findings.js';
import type { FindingKind } from '../db/schema/findings.js';
import type { RuleHit, Severity } from '../rules/types.js';
import { type MergedEvent, mergeStaged, openNotReturned } from './merge.js';
import { hasNoFindings, insertAllNew } from './merge-direct.js';
import type { PlanInput } from './merge-plan.js';
import { isActive, type SuppressionRule } from './suppression-match.js';

/** One transition written to finding_events, with the rule it belongs to: what the alerts stage turns into outbox rows. */
export interface Transition extends MergedEvent {
  ruleId: string;
  title: string;
  kind: FindingKind;
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
  /** The hits, or a set-based rule's query of them (staged without leaving PostgreSQL; with declared facts, built only for new or changed hits). */
  hits: RuleHit[] | SQL | FactsQuery;
  /** Resolve every open finding with this reason, whatever the hits (rule disabled, rule removed). */
  retireAll?: string;
  /** A reason to resolve an open finding of a key the rule no longer produces. */
  retire?: (resourceKey: string) => string | undefined;
  /** Facts that count days from now: compared by their date, not their count (DayFacts). */
  dayFacts?: DayFacts;
}

/** A suppression with what is recorded when it applies. */
export interface SuppressionWithReason extends SuppressionRule {
  reason: string;
  createdBy: string | null;
}

/** What one rule's result wrote: its transitions, and how many hits it staged. */
export interface Applied {
  hits: number;
  transitions: Transition[];
}

export interface ApplyOptions {
  suppressions: SuppressionWithReason[];
  now: Date;
  checkRunId: number | null;
  /** The rule's last successful check before this one (rule_states.last_checked_at): when its open state findings were last seen. */
  confirmedAt?: Date | null;
}

const isoOf = (v: string | Date | null | undefined) => (v == null ? null : new Date(v).toISOString());

/** Hits as the SQL merge stages them: severity settled, optional fields made null. */
const staged = (result: RuleResult, hits: RuleHit[]): StagedHit[] =>
  hits.map((h) => ({
    resourceKey: h.resourceKey,
    resourceType: h.resourceType,
    resourceName: h.resourceName ?? null,
    accountId: h.accountId ?? null,
    severity: result.severityOverride ?? h.severity ?? result.severity,
    facts: h.facts ?? {},
    lastEventAt: isoOf(h.lastEventAt),
  }));

/** A glob (`*` = any run of characters) as a LIKE pattern; null when it has no `*` (matched exactly). */
export function globToLike(pattern: string): string | null {
  if (!pattern.includes('*')) return null;
  return pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}

/** The suppressions that may cover a finding of this rule now, as the SQL merge matches them. */
function applicableSuppressions(list: SuppressionWithReason[], ruleId: string, now: Date): PlanInput['suppressions'] {
  return list
    .filter((s) => isActive(s, now) && (s.ruleId === '*' || s.ruleId === ruleId))
    .map((s) => ({ id: s.id, pattern: s.resourcePattern, like: globToLike(s.resourcePattern), expiresAt: s.expiresAt?.toISOString() ?? null, reason: s.reason, createdBy: s.createdBy }));
}

/** Open findings of keys the rule no longer produces, with the reason it gives (rule.retire is code, so it runs here). */
async function retiredKeys(tx: Tx, result: RuleResult): Promise<Record<string, string>> {
  if (!result.retire || result.retireAll) return {};
  const out: Record<string, string> = {};
  for (const key of await openNotReturned(tx, result.ruleId)) {
    const reason = result.retire(key);
    if (reason) out[key] = reason;
  }
  return out;
}

/**
 * The one place finding transitions are written. Call it inside the transaction that
 * should hold them: the alerts stage writes its outbox rows from the returned list in
 * the same transaction, so a transition and its alert commit together or not at all.
 * Only call it for a rule that evaluated successfully (or with `retireAll`): absent hits resolve state findings.
 * The lifecycle of ./plan.ts, computed in PostgreSQL (./merge.ts): what did not change is not written;
 * a rule with no findings yet writes its hits as new findings directly (./merge-direct.ts).
 */
export async function applyRuleResult(tx: Tx, result: RuleResult, opts: ApplyOptions): Promise<Applied> {
  await lockRuleFindings(tx, result.ruleId);
  // Under the lock: no other run can write a finding of this rule until this transaction ends.
  const allNew = await hasNoFindings(tx, result.ruleId);
  const hits = Array.isArray(result.hits)
    ? (await stageHits(tx, staged(result, result.hits), { allNew }), result.hits.length)
    : await stageHitsFromQuery(tx, result.hits, { rule: result.severity, override: result.severityOverride }, { ruleId: result.ruleId, kind: result.kind }, { allNew });
  const input = {
    ruleId: result.ruleId,
    title: result.title,
    kind: result.kind,
    now: opts.now,
    suppressions: applicableSuppressions(opts.suppressions, result.ruleId, opts.now),
    retireAll: result.retireAll ?? null,
    dayFacts: Object.keys(result.dayFacts ?? {}),
    retired: allNew ? {} : await retiredKeys(tx, result),
    checkRunId: opts.checkRunId,
    confirmedAt: opts.confirmedAt ?? null,
  };
  // No finding to match, resolve or reopen: every hit is new, written straight from the stage.
  const events = allNew ? await insertAllNew(tx, input) : await mergeStaged(tx, input);
  return { hits, transitions: events.map((e) => ({ ...e, ruleId: result.ruleId, title: result.title, kind: result.kind, at: opts.now })) };
}
