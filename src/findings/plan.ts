import type { TransitionKind } from '../db/schema/finding-events.js';
import type { Severity } from '../rules/types.js';
import { stableJson } from './fingerprint.js';

/** A rule hit, ready to store: fingerprinted, severity settled, suppression matched. */
export interface PreparedHit {
  fingerprint: string;
  resourceKey: string;
  resourceType: string;
  resourceName: string | null;
  accountId: string | null;
  severity: Severity;
  facts: Record<string, unknown>;
  suppressionId: number | null;
}

/** What the planner needs to know of a stored finding of the rule. */
export interface ExistingFinding extends PreparedHit {
  id: number;
  status: 'open' | 'resolved';
  suppressed: boolean;
  reopenedCount: number;
}

/** The full new state of a finding row (id absent for a new one). */
export interface FindingWrite extends PreparedHit {
  id?: number;
  status: 'open' | 'resolved';
  suppressed: boolean;
  /** Seen in this run: last_seen_at moves to now. */
  seen: boolean;
  resolved: boolean;
  reopenedCount: number;
  /** Anything but last_seen_at changed: updated_at moves to now. */
  changed: boolean;
}

export interface PlannedEvent {
  fingerprint: string;
  transition: TransitionKind;
  fromSeverity: Severity | null;
  toSeverity: Severity | null;
  facts: Record<string, unknown>;
}

export interface Plan {
  inserts: FindingWrite[];
  updates: FindingWrite[];
  events: PlannedEvent[];
}

const event = (fingerprint: string, transition: TransitionKind, from: Severity | null, to: Severity | null, facts: Record<string, unknown>): PlannedEvent =>
  ({ fingerprint, transition, fromSeverity: from, toSeverity: to, facts });

/**
 * One rule's findings after a successful evaluation: open what is new, refresh what is
 * still there, reopen what came back, resolve what is gone. Pure, so every transition is
 * unit-testable. `refreshed` is recorded only when the facts changed (last_seen_at moves
 * every run without an event), so the history grows with change, not with time.
 */
export function planFindings(existing: ExistingFinding[], hits: PreparedHit[]): Plan {
  const byFp = new Map(existing.map((f) => [f.fingerprint, f]));
  const plan: Plan = { inserts: [], updates: [], events: [] };
  const seen = new Set<string>();
  for (const hit of hits) {
    if (seen.has(hit.fingerprint)) continue; // a rule returning a resource twice: the first row wins
    seen.add(hit.fingerprint);
    const suppressed = hit.suppressionId !== null;
    const old = byFp.get(hit.fingerprint);
    const base = { ...hit, status: 'open' as const, suppressed, seen: true, resolved: false };
    if (!old) {
      plan.inserts.push({ ...base, reopenedCount: 0, changed: true });
      plan.events.push(event(hit.fingerprint, 'opened', null, hit.severity, hit.facts));
      continue;
    }
    if (old.status === 'resolved') {
      plan.updates.push({ ...base, id: old.id, reopenedCount: old.reopenedCount + 1, changed: true });
      plan.events.push(event(hit.fingerprint, 'reopened', old.severity, hit.severity, hit.facts));
      continue;
    }
    const factsChanged = stableJson(old.facts) !== stableJson(hit.facts);
    const changed =
      factsChanged || old.severity !== hit.severity || old.suppressed !== suppressed || old.suppressionId !== hit.suppressionId ||
      old.resourceName !== hit.resourceName || old.resourceType !== hit.resourceType || old.accountId !== hit.accountId;
    plan.updates.push({ ...base, id: old.id, reopenedCount: old.reopenedCount, changed });
    if (old.severity !== hit.severity) plan.events.push(event(hit.fingerprint, 'severity_changed', old.severity, hit.severity, hit.facts));
    else if (factsChanged) plan.events.push(event(hit.fingerprint, 'refreshed', old.severity, hit.severity, hit.facts));
    if (!old.suppressed && suppressed) plan.events.push(event(hit.fingerprint, 'suppressed', hit.severity, hit.severity, hit.facts));
    if (old.suppressed && !suppressed) plan.events.push(event(hit.fingerprint, 'unsuppressed', hit.severity, hit.severity, hit.facts));
  }
  for (const old of existing) {
    if (old.status !== 'open' || seen.has(old.fingerprint)) continue;
    plan.updates.push({ ...old, id: old.id, status: 'resolved', seen: false, resolved: true, changed: true });
    plan.events.push(event(old.fingerprint, 'resolved', old.severity, null, old.facts));
  }
  return plan;
}
