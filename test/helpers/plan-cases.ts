// The finding lifecycle as data: every case of test/unit/findings-plan.test.ts (and a few
// mixtures), so that the pure planner (src/findings/plan.ts) and the SQL merge
// (src/findings/merge.ts) run the same cases. test/unit/findings-plan.test.ts checks the planner
// against `expected`; test/integration/findings-merge-sql.test.ts runs each case through both
// and requires the same events and the same rows.
import type { TransitionKind } from '../../src/db/schema/finding-events.js';
import type { FindingKind } from '../../src/db/schema/findings.js';
import { fingerprint } from '../../src/findings/fingerprint.js';
import type { DayFacts } from '../../src/rules/facts-query.js';
import { type ExistingFinding, type Plan, planFindings, type PreparedHit } from '../../src/findings/plan.js';
import { accountGone, REASONS } from '../../src/findings/reasons.js';
import { matchSuppression, type SuppressionRule } from '../../src/findings/suppression-match.js';

export const CASE_RULE = 'r';
export const CASE_NOW = new Date('2030-01-02T00:00:00Z');

/** A hit as a case gives it: its suppression is matched from the case's suppressions (suppression-match.ts), as the SQL merge matches them. */
export type CaseHit = Omit<PreparedHit, 'suppressionId'>;

export interface CaseSuppression {
  id: number;
  pattern: string;
  expiresAt?: string | null;
  reason?: string;
  by?: string | null;
}

export interface PlanCase {
  name: string;
  kind?: FindingKind;
  existing: ExistingFinding[];
  hits: CaseHit[];
  suppressions?: CaseSuppression[];
  /** Resolve every open finding not returned with this reason (rule disabled or removed). */
  retireAll?: string;
  /** Open findings of retired keys: key → reason. */
  retired?: Record<string, string>;
  /** Accounts deleted by the sync layer: id → its deleted_reason. */
  deletedAccounts?: Record<string, string | null>;
  /** The rule's facts that count days (Rule.dayFacts). */
  dayFacts?: DayFacts;
  /** What the specification says: the transitions, and the reason each records (null: none). */
  expected: Array<[TransitionKind, string | null]>;
}

export const hit = (key: string, over: Partial<CaseHit> = {}): CaseHit => ({
  fingerprint: fingerprint(CASE_RULE, key), resourceKey: key, resourceType: 'token', resourceName: null, accountId: null, severity: 'medium', facts: {}, lastEventAt: null, ...over,
});
let nextId = 1;
export const stored = (key: string, over: Partial<ExistingFinding> = {}): ExistingFinding => ({
  id: nextId++, fingerprint: fingerprint(CASE_RULE, key), resourceKey: key, resourceType: 'token', resourceName: null, accountId: null, status: 'open', severity: 'medium', suppressed: false, suppressionId: null, facts: {}, reopenedCount: 0, lastEventAt: null, ...over,
});

export const suppressionRules = (c: PlanCase): Array<SuppressionRule & { reason: string; createdBy: string | null }> =>
  (c.suppressions ?? []).map((s) => ({
    id: s.id, ruleId: CASE_RULE, resourcePattern: s.pattern, expiresAt: s.expiresAt ? new Date(s.expiresAt) : null, reason: s.reason ?? `accepted #${s.id}`, createdBy: s.by === undefined ? 'bob' : s.by,
  }));

/** The planner on a case, with the case's data as its options. */
export function planCase(c: PlanCase): Plan {
  const supp = suppressionRules(c);
  const covering = (key: string) => matchSuppression(supp, CASE_RULE, key, CASE_NOW)?.id ?? null;
  const hits = c.hits.map((h) => ({ ...h, suppressionId: covering(h.resourceKey) }));
  const deleted = c.deletedAccounts ?? {};
  return planFindings(c.existing, hits, {
    kind: c.kind ?? 'state',
    coveredBy: (f) => covering(f.resourceKey),
    suppression: (id) => {
      const s = supp.find((x) => x.id === id);
      return s && { reason: s.reason, by: s.createdBy };
    },
    retire: (f) => c.retireAll ?? c.retired?.[f.resourceKey],
    vanished: (f) => (f.accountId && f.accountId in deleted ? accountGone(f.accountId, deleted[f.accountId]) : undefined),
    dayFacts: Object.keys(c.dayFacts ?? {}),
  });
}

const T1 = '2030-01-01T10:00:00.000Z';
const T2 = '2030-01-01T11:00:00.000Z';
const PAST = '2029-12-31T00:00:00.000Z';
const LATER = '2030-02-01T00:00:00.000Z';
const D = 'detection' as const;

const AGE: DayFacts = { age_days: { since: 'since' } };
const [DEC1, DEC10] = ['2029-12-01T00:00:00.000Z', '2029-12-10T00:00:00.000Z'];

export const PLAN_CASES: PlanCase[] = [
  // State findings.
  { name: 'state: a new hit opens', existing: [], hits: [hit('a')], expected: [['opened', null]] },
  { name: 'state: same facts (any key order) is quiet', existing: [stored('a', { facts: { x: 1, y: [1] } })], hits: [hit('a', { facts: { y: [1], x: 1 } })], expected: [] },
  { name: 'state: new facts refresh', existing: [stored('a')], hits: [hit('a', { facts: { x: 2 } })], expected: [['refreshed', null]] },
  { name: 'state: a new severity', existing: [stored('a')], hits: [hit('a', { severity: 'high', facts: { x: 2 } })], expected: [['severity_changed', null]] },
  { name: 'state: not returned resolves', existing: [stored('a')], hits: [], expected: [['resolved', REASONS.gone]] },
  // A fact that counts days from now (src/rules/facts-query.ts DayCount) is compared by its date: the day turning changes nothing.
  { name: 'state: a day count moved, its date did not: quiet', dayFacts: AGE, existing: [stored('a', { facts: { since: DEC1, age_days: 30 } })], hits: [hit('a', { facts: { since: DEC1, age_days: 32 } })], expected: [] },
  { name: 'state: a day count with a new date refreshes', dayFacts: AGE, existing: [stored('a', { facts: { since: DEC1, age_days: 30 } })], hits: [hit('a', { facts: { since: DEC10, age_days: 23 } })], expected: [['refreshed', null]] },
  { name: 'state: a day count not declared is a fact like any other', existing: [stored('a', { facts: { since: DEC1, age_days: 30 } })], hits: [hit('a', { facts: { since: DEC1, age_days: 32 } })], expected: [['refreshed', null]] },
  { name: 'detection: a day count alone is no newer evidence', kind: 'detection', dayFacts: AGE, existing: [stored('d', { facts: { since: DEC1, age_days: 30 } })], hits: [hit('d', { facts: { since: DEC1, age_days: 32 } })], expected: [] },
  { name: 'state: a resolved one stays resolved', existing: [stored('a', { status: 'resolved' })], hits: [], expected: [] },
  { name: 'state: returned again reopens', existing: [stored('a', { status: 'resolved', reopenedCount: 2 })], hits: [hit('a')], expected: [['reopened', null]] },
  { name: 'state: a suppression applies', existing: [stored('a')], hits: [hit('a')], suppressions: [{ id: 4, pattern: 'a' }], expected: [['suppressed', REASONS.suppressed]] },
  { name: 'state: a suppression ends', existing: [stored('a', { suppressed: true, suppressionId: 4 })], hits: [hit('a')], expected: [['unsuppressed', null]] },
  { name: 'state: a resource returned twice, the first row wins', existing: [], hits: [hit('a', { facts: { n: 1 } }), hit('a', { facts: { n: 2 } })], expected: [['opened', null]] },
  {
    name: 'state: a resource gone with its account', existing: [stored('a', { accountId: 'acc' }), stored('b', { accountId: 'other' })], hits: [],
    deletedAccounts: { acc: 'account removed from /accounts' }, expected: [['resolved', 'account acc account removed from /accounts'], ['resolved', REASONS.gone]],
  },
  { name: 'state: an account deleted without a reason', existing: [stored('a', { accountId: 'acc' })], hits: [], deletedAccounts: { acc: null }, expected: [['resolved', 'account acc deleted']] },
  { name: 'state: the rule disabled', existing: [stored('a'), stored('b', { status: 'resolved' })], hits: [], retireAll: REASONS.ruleDisabled, expected: [['resolved', REASONS.ruleDisabled]] },
  { name: 'state: a retired key', existing: [stored('audit:x'), stored('k')], hits: [hit('k')], retired: { 'audit:x': REASONS.retired }, expected: [['resolved', REASONS.retired]] },
  {
    name: 'state: a new severity under a new suppression, in the planner order', existing: [stored('a'), stored('b'), stored('gone')], hits: [hit('b', { facts: { n: 1 } }), hit('new'), hit('a', { severity: 'high' })],
    suppressions: [{ id: 9, pattern: 'a' }], expected: [['refreshed', null], ['opened', null], ['severity_changed', null], ['suppressed', REASONS.suppressed], ['resolved', REASONS.gone]],
  },
  {
    name: 'state: the suppression that lasts longest, then the oldest; expired ones and glob characters are literal', existing: [stored('token:a'), stored('token:aXb')], hits: [hit('token:a'), hit('token:aXb')],
    suppressions: [{ id: 1, pattern: '*', expiresAt: PAST }, { id: 2, pattern: 'token:a*', expiresAt: LATER }, { id: 3, pattern: 'token:a' }, { id: 5, pattern: 'token:a_b*' }, { id: 6, pattern: '%' }],
    expected: [['suppressed', REASONS.suppressed], ['suppressed', REASONS.suppressed]],
  },
  { name: 'state: name, type and account changes are written without an event', existing: [stored('a')], hits: [hit('a', { resourceName: 'A', resourceType: 'user', accountId: 'acc' })], expected: [] },
  // Detections.
  { name: 'detection: opens once', kind: D, existing: [], hits: [hit('d', { lastEventAt: T1 })], expected: [['opened', null]] },
  { name: 'detection: not returned stays open', kind: D, existing: [stored('d', { lastEventAt: T1 })], hits: [], expected: [] },
  { name: 'detection: the same evidence keeps what it recorded', kind: D, existing: [stored('d', { lastEventAt: T1, facts: { entries: 3 } })], hits: [hit('d', { lastEventAt: T1, facts: { entries: 2 }, severity: 'low' })], expected: [] },
  { name: 'detection: newer evidence refreshes', kind: D, existing: [stored('d', { lastEventAt: T1, facts: { entries: 3 } })], hits: [hit('d', { lastEventAt: T2, facts: { entries: 4 } })], expected: [['refreshed', null]] },
  { name: 'detection: newer evidence raises the severity', kind: D, existing: [stored('d', { lastEventAt: T1, facts: { entries: 3 } })], hits: [hit('d', { lastEventAt: T2, severity: 'critical' })], expected: [['severity_changed', null]] },
  { name: 'detection: acknowledged, the same evidence', kind: D, existing: [stored('d', { status: 'resolved', lastEventAt: T1 })], hits: [hit('d', { lastEventAt: T1 })], expected: [] },
  { name: 'detection: acknowledged, newer evidence reopens', kind: D, existing: [stored('d', { status: 'resolved', lastEventAt: T1 })], hits: [hit('d', { lastEventAt: T2 })], expected: [['reopened', null]] },
  { name: 'detection: no event time, same facts', kind: D, existing: [stored('d', { status: 'resolved', facts: { n: 1 } })], hits: [hit('d', { facts: { n: 1 } })], expected: [] },
  { name: 'detection: no event time, new facts reopen', kind: D, existing: [stored('d', { status: 'resolved', facts: { n: 1 } })], hits: [hit('d', { facts: { n: 2 } })], expected: [['reopened', null]] },
  { name: 'detection: no event time, new facts refresh an open one', kind: D, existing: [stored('d', { facts: { n: 1 } })], hits: [hit('d', { facts: { n: 2 } })], expected: [['refreshed', null]] },
  { name: 'detection: a suppression closes a returned one', kind: D, existing: [stored('d', { lastEventAt: T1 })], hits: [hit('d', { lastEventAt: T1 })], suppressions: [{ id: 7, pattern: 'd' }], expected: [['resolved', REASONS.suppressed]] },
  { name: 'detection: a suppression closes one not returned', kind: D, existing: [stored('d', { lastEventAt: T1 })], hits: [], suppressions: [{ id: 7, pattern: '*' }], expected: [['resolved', REASONS.suppressed]] },
  { name: 'detection: already accepted, recorded and closed at once', kind: D, existing: [], hits: [hit('d', { lastEventAt: T1 })], suppressions: [{ id: 7, pattern: 'd' }], expected: [['opened', null], ['resolved', REASONS.suppressed]] },
  {
    name: 'detection: newer evidence under a suppression is recorded quietly', kind: D, existing: [stored('d', { status: 'resolved', suppressed: true, suppressionId: 7, lastEventAt: T1 })],
    hits: [hit('d', { lastEventAt: T2 })], suppressions: [{ id: 7, pattern: 'd' }], expected: [],
  },
  { name: 'detection: a suppressed open one no longer suppressed', kind: D, existing: [stored('d', { suppressed: true, suppressionId: 7, lastEventAt: T1 })], hits: [hit('d', { lastEventAt: T1 })], expected: [] },
  {
    name: 'detection: its account gone', kind: D, existing: [stored('d', { accountId: 'acc' }), stored('e')], hits: [],
    deletedAccounts: { acc: 'account not watched (FLAREWATCH_ACCOUNTS)' }, expected: [['resolved', 'account acc account not watched (FLAREWATCH_ACCOUNTS)']],
  },
  { name: 'detection: the rule removed', kind: D, existing: [stored('d')], hits: [], retireAll: REASONS.ruleRemoved, expected: [['resolved', REASONS.ruleRemoved]] },
];
