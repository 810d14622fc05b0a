import type { TransitionKind } from '../db/schema/finding-events.js';
import type { FindingKind } from '../db/schema/findings.js';
import type { Severity } from '../rules/types.js';
import { stableJson } from './fingerprint.js';
import { REASONS } from './reasons.js';

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
  /** Detections: the latest event they cover (ISO); the evidence that makes a detection new. */
  lastEventAt: string | null;
}

/** What the planner needs to know of a stored finding of the rule. */
export interface ExistingFinding extends PreparedHit {
  id: number;
  status: 'open' | 'resolved';
  suppressed: boolean;
  reopenedCount: number;
}

/** Why, by whom, with what note: recorded with a resolution (and a suppression). */
export interface Resolution {
  reason: string;
  by: string | null;
  note: string | null;
}

/** The full new state of a finding row (id absent for a new one). */
export interface FindingWrite extends PreparedHit {
  id?: number;
  kind: FindingKind;
  status: 'open' | 'resolved';
  suppressed: boolean;
  /** Seen in this run: last_seen_at moves to now. */
  seen: boolean;
  /** This write resolves it: resolved_at moves to now and `resolution` is recorded. */
  resolved: boolean;
  resolution: Resolution | null;
  reopenedCount: number;
  /** Anything but last_seen_at changed: updated_at moves to now. */
  changed: boolean;
}

export interface PlannedEvent extends Partial<Resolution> {
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

export interface PlanOptions {
  /** state (default): resolved when no longer returned. detection: open until acknowledged, suppressed or retired. */
  kind?: FindingKind;
  /** The suppression covering a stored finding now (detections the rule no longer returns are closed by one too). */
  coveredBy?: (f: ExistingFinding) => number | null;
  /** Who wrote a suppression and why, for the record. */
  suppression?: (id: number) => { reason: string; by: string | null } | undefined;
  /** A reason to resolve an open finding the rule did not return, whatever its kind (rule disabled or removed, retired key). */
  retire?: (f: ExistingFinding) => string | undefined;
  /** Why an open finding's resource is gone with its account ("account <id> <why>"). */
  vanished?: (f: ExistingFinding) => string | undefined;
  /** Facts that count days from now: not compared (their dates are other facts), so a day going by changes nothing. */
  dayFacts?: string[];
}

/** Facts as compared: the day counts left out (PlanOptions.dayFacts). */
function comparable(facts: Record<string, unknown>, dayFacts: string[] = []): string {
  if (!dayFacts.length) return stableJson(facts);
  return stableJson(Object.fromEntries(Object.entries(facts).filter(([k]) => !dayFacts.includes(k))));
}

const event = (fingerprint: string, transition: TransitionKind, from: Severity | null, to: Severity | null, facts: Record<string, unknown>, why?: Partial<Resolution>): PlannedEvent =>
  ({ fingerprint, transition, fromSeverity: from, toSeverity: to, facts, ...why });

/** Newer evidence: a later last event, or (a rule that gives no event time) different facts. */
function isNewer(hit: PreparedHit, old: ExistingFinding, dayFacts?: string[]): boolean {
  if (hit.lastEventAt === null) return comparable(hit.facts, dayFacts) !== comparable(old.facts, dayFacts);
  return old.lastEventAt === null || Date.parse(hit.lastEventAt) > Date.parse(old.lastEventAt);
}

/**
 * One rule's findings after a successful evaluation. State findings: open what is new,
 * refresh what is still there, reopen what came back, resolve what is gone. Detections: open
 * what is new, keep the rest open whether the look-back still returns them or not, close
 * them on a suppression, reopen an acknowledged one only on newer evidence. Pure, so every
 * transition is unit-testable. `refreshed` is recorded only when the facts changed
 * (a state finding's last_seen_at moves every run without an event; a detection's with newer
 * evidence only), so the history grows with change, not with time.
 */
export function planFindings(existing: ExistingFinding[], hits: PreparedHit[], opts: PlanOptions = {}): Plan {
  const kind = opts.kind ?? 'state';
  const byFp = new Map(existing.map((f) => [f.fingerprint, f]));
  const plan: Plan = { inserts: [], updates: [], events: [] };
  const seen = new Set<string>();
  for (const hit of hits) {
    if (seen.has(hit.fingerprint)) continue; // a rule returning a resource twice: the first row wins
    seen.add(hit.fingerprint);
    if (kind === 'detection') planDetection(plan, byFp.get(hit.fingerprint), hit, opts);
    else planState(plan, byFp.get(hit.fingerprint), hit, opts);
  }
  for (const old of existing) {
    if (old.status !== 'open' || seen.has(old.fingerprint)) continue;
    const reason = opts.retire?.(old) ?? opts.vanished?.(old) ?? (kind === 'state' ? REASONS.gone : undefined);
    if (reason) resolve(plan, old, kind, { reason, by: null, note: null });
    else if (!old.suppressed && opts.coveredBy?.(old)) {
      const id = opts.coveredBy(old)!;
      resolve(plan, { ...old, suppressed: true, suppressionId: id }, kind, suppressedBy(id, opts));
    }
  }
  return plan;
}

const suppressedBy = (id: number, opts: PlanOptions): Resolution => {
  const s = opts.suppression?.(id);
  return { reason: REASONS.suppressed, by: s?.by ?? null, note: s?.reason ?? null };
};

function resolve(plan: Plan, f: ExistingFinding, kind: FindingKind, resolution: Resolution, seenNow = false): void {
  plan.updates.push({ ...f, kind, status: 'resolved', seen: seenNow, resolved: true, resolution, changed: true });
  plan.events.push(event(f.fingerprint, 'resolved', f.severity, null, f.facts, resolution));
}

function planState(plan: Plan, old: ExistingFinding | undefined, hit: PreparedHit, opts: PlanOptions): void {
  const suppressed = hit.suppressionId !== null;
  const base = { ...hit, kind: 'state' as const, status: 'open' as const, suppressed, seen: true, resolved: false, resolution: null };
  if (!old) {
    plan.inserts.push({ ...base, reopenedCount: 0, changed: true });
    plan.events.push(event(hit.fingerprint, 'opened', null, hit.severity, hit.facts));
    return;
  }
  if (old.status === 'resolved') {
    plan.updates.push({ ...base, id: old.id, reopenedCount: old.reopenedCount + 1, changed: true });
    plan.events.push(event(hit.fingerprint, 'reopened', old.severity, hit.severity, hit.facts));
    return;
  }
  const factsChanged = comparable(old.facts, opts.dayFacts) !== comparable(hit.facts, opts.dayFacts);
  const changed =
    factsChanged || old.severity !== hit.severity || old.suppressed !== suppressed || old.suppressionId !== hit.suppressionId ||
    old.resourceName !== hit.resourceName || old.resourceType !== hit.resourceType || old.accountId !== hit.accountId;
  // Unchanged, it keeps what it stored: a day count of its facts is the one of the day it was written.
  plan.updates.push({ ...base, facts: changed ? hit.facts : old.facts, id: old.id, reopenedCount: old.reopenedCount, changed });
  if (old.severity !== hit.severity) plan.events.push(event(hit.fingerprint, 'severity_changed', old.severity, hit.severity, hit.facts));
  else if (factsChanged) plan.events.push(event(hit.fingerprint, 'refreshed', old.severity, hit.severity, hit.facts));
  // A suppression ends the alert episode (incidents resolve); the finding stays open, flagged.
  if (!old.suppressed && suppressed) plan.events.push(event(hit.fingerprint, 'suppressed', hit.severity, hit.severity, hit.facts, suppressedBy(hit.suppressionId!, opts)));
  if (old.suppressed && !suppressed) plan.events.push(event(hit.fingerprint, 'unsuppressed', hit.severity, hit.severity, hit.facts));
}

function planDetection(plan: Plan, old: ExistingFinding | undefined, hit: PreparedHit, opts: PlanOptions): void {
  const suppressed = hit.suppressionId !== null;
  const fresh = { ...hit, kind: 'detection' as const, suppressed, seen: true };
  if (!old) {
    plan.inserts.push({ ...fresh, status: 'open', resolved: false, resolution: null, reopenedCount: 0, changed: true });
    plan.events.push(event(hit.fingerprint, 'opened', null, hit.severity, hit.facts));
    // Already accepted: recorded, and closed at once.
    if (suppressed) {
      const last = plan.inserts.at(-1)!;
      Object.assign(last, { status: 'resolved', resolved: true, resolution: suppressedBy(hit.suppressionId!, opts) });
      plan.events.push(event(hit.fingerprint, 'resolved', hit.severity, null, hit.facts, last.resolution!));
    }
    return;
  }
  const newer = isNewer(hit, old, opts.dayFacts);
  // Without newer evidence a detection keeps what it recorded: ageing out of the look-back changes nothing.
  const current: ExistingFinding = newer ? { ...hit, id: old.id, status: old.status, suppressed: old.suppressed, reopenedCount: old.reopenedCount } : old;
  if (old.status === 'resolved') {
    if (!newer) return;
    if (suppressed) {
      plan.updates.push({ ...current, kind: 'detection', suppressed, suppressionId: hit.suppressionId, seen: true, resolved: false, resolution: null, changed: true });
      return;
    }
    plan.updates.push({ ...fresh, id: old.id, status: 'open', resolved: false, resolution: null, reopenedCount: old.reopenedCount + 1, changed: true });
    plan.events.push(event(hit.fingerprint, 'reopened', old.severity, hit.severity, hit.facts));
    return;
  }
  if (suppressed) {
    resolve(plan, { ...current, suppressed: true, suppressionId: hit.suppressionId }, 'detection', suppressedBy(hit.suppressionId!, opts), true);
    return;
  }
  // Returned again without newer evidence: nothing to write. Its last_seen_at is when its latest
  // evidence was recorded, not the latest check that returned it (that would rewrite every open detection every run).
  if (!newer && !old.suppressed) return;
  plan.updates.push({ ...current, kind: 'detection', suppressed: false, suppressionId: null, seen: newer, resolved: false, resolution: null, changed: true });
  if (!newer) return;
  if (old.severity !== hit.severity) plan.events.push(event(hit.fingerprint, 'severity_changed', old.severity, hit.severity, hit.facts));
  else if (comparable(old.facts, opts.dayFacts) !== comparable(hit.facts, opts.dayFacts)) plan.events.push(event(hit.fingerprint, 'refreshed', old.severity, hit.severity, hit.facts));
}
