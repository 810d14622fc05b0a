// planFindings is the specification of the finding lifecycle: every transition a check can
// make, state findings and detections, with the reason each resolution records.
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/findings/fingerprint.js';
import { type ExistingFinding, type Plan, planFindings, type PlanOptions, type PreparedHit } from '../../src/findings/plan.js';
import { accountGone, categoryOf, REASONS } from '../../src/findings/reasons.js';
import { PLAN_CASES, planCase } from '../helpers/plan-cases.js';

const hit = (key: string, over: Partial<PreparedHit> = {}): PreparedHit => ({
  fingerprint: fingerprint('r', key), resourceKey: key, resourceType: 'token', resourceName: null, accountId: null, severity: 'medium', facts: {}, suppressionId: null, lastEventAt: null, ...over,
});
const stored = (key: string, over: Partial<ExistingFinding> = {}): ExistingFinding => ({
  id: 1, fingerprint: fingerprint('r', key), resourceKey: key, resourceType: 'token', resourceName: null, accountId: null, status: 'open', severity: 'medium', suppressed: false, suppressionId: null, facts: {}, reopenedCount: 0, lastEventAt: null, ...over,
});
const kinds = (p: Plan) => p.events.map((e) => e.transition);
const reasons = (p: Plan) => p.events.map((e) => e.reason ?? null);
const T1 = '2030-01-01T10:00:00.000Z';
const T2 = '2030-01-01T11:00:00.000Z';
const detection: PlanOptions = { kind: 'detection' };
const supp = { suppression: (id: number) => ({ reason: `accepted #${id}`, by: 'bob' }) };

describe('state findings', () => {
  it('opens, refreshes quietly, records fact and severity changes, resolves, reopens', () => {
    expect(kinds(planFindings([], [hit('a')]))).toEqual(['opened']);
    const quiet = planFindings([stored('a', { facts: { x: 1, y: [1] } })], [hit('a', { facts: { y: [1], x: 1 } })]);
    expect([kinds(quiet), quiet.updates[0]!.changed, quiet.updates[0]!.seen]).toEqual([[], false, true]);
    expect(kinds(planFindings([stored('a')], [hit('a', { facts: { x: 2 } })]))).toEqual(['refreshed']);
    expect(kinds(planFindings([stored('a')], [hit('a', { severity: 'high', facts: { x: 2 } })]))).toEqual(['severity_changed']);
    const resolved = planFindings([stored('a')], []);
    expect([kinds(resolved), resolved.updates[0]!.status, resolved.updates[0]!.seen]).toEqual([['resolved'], 'resolved', false]);
    expect(kinds(planFindings([stored('a', { status: 'resolved' })], []))).toEqual([]);
    const reopened = planFindings([stored('a', { status: 'resolved', reopenedCount: 2 })], [hit('a')]);
    expect([kinds(reopened), reopened.updates[0]!.reopenedCount, reopened.updates[0]!.resolution]).toEqual([['reopened'], 3, null]);
  });

  it('records suppression changes (who and why) and ignores a resource returned twice', () => {
    const s = planFindings([stored('a')], [hit('a', { suppressionId: 4 })], supp);
    expect([kinds(s), s.events[0]]).toEqual([['suppressed'], expect.objectContaining({ reason: REASONS.suppressed, by: 'bob', note: 'accepted #4' })]);
    expect(s.updates[0]).toMatchObject({ status: 'open', suppressed: true });
    expect(kinds(planFindings([stored('a', { suppressed: true, suppressionId: 4 })], [hit('a')]))).toEqual(['unsuppressed']);
    const twice = planFindings([], [hit('a', { facts: { n: 1 } }), hit('a', { facts: { n: 2 } })]);
    expect([twice.inserts.length, twice.inserts[0]!.facts]).toEqual([1, { n: 1 }]);
  });

  it('every resolution records its reason: gone, the account gone, the rule disabled or removed, a retired key', () => {
    const gone = planFindings([stored('a')], []);
    expect([reasons(gone), gone.updates[0]!.resolution]).toEqual([[REASONS.gone], { reason: REASONS.gone, by: null, note: null }]);
    const vanished = planFindings([stored('a', { accountId: 'acc' }), stored('b', { accountId: 'other' })], [], {
      vanished: (f) => (f.accountId === 'acc' ? accountGone('acc', 'account removed from /accounts') : undefined),
    });
    expect(reasons(vanished)).toEqual(['account acc account removed from /accounts', REASONS.gone]);
    expect(accountGone('acc', null)).toBe('account acc deleted');
    expect(reasons(planFindings([stored('a'), stored('b', { status: 'resolved' })], [], { retire: () => REASONS.ruleDisabled }))).toEqual([REASONS.ruleDisabled]);
    expect(reasons(planFindings([stored('audit:x'), stored('k')], [hit('k')], { retire: (f) => (f.resourceKey.startsWith('audit:') ? REASONS.retired : undefined) }))).toEqual([REASONS.retired]);
  });

  it('reasons fall into who should hear of them', () => {
    expect([REASONS.gone, REASONS.acknowledged, REASONS.suppressed, REASONS.ruleDisabled, REASONS.ruleRemoved, REASONS.retired, accountGone('a', 'x')].map(categoryOf))
      .toEqual(['fixed', 'acknowledged', 'suppressed', 'administrative', 'administrative', 'administrative', 'administrative']);
  });
});

describe('detections', () => {
  it('open once, and stay open when the look-back no longer returns them (never resolved by ageing out)', () => {
    const opened = planFindings([], [hit('d', { lastEventAt: T1 })], detection);
    expect([kinds(opened), opened.inserts[0]]).toEqual([['opened'], expect.objectContaining({ kind: 'detection', status: 'open', lastEventAt: T1 })]);
    const aged = planFindings([stored('d', { lastEventAt: T1 })], [], detection);
    expect([kinds(aged), aged.updates]).toEqual([[], []]);
  });

  it('keep what they recorded unless newer evidence arrives; then refresh, or raise the severity', () => {
    const old = stored('d', { lastEventAt: T1, facts: { entries: 3 } });
    const shrunk = planFindings([old], [hit('d', { lastEventAt: T1, facts: { entries: 2 }, severity: 'low' })], detection);
    // Nothing written: not even last_seen_at (a detection's moves with newer evidence only), so a steady check writes no row.
    expect(shrunk).toEqual({ inserts: [], updates: [], events: [] });
    const grown = planFindings([old], [hit('d', { lastEventAt: T2, facts: { entries: 4 } })], detection);
    expect([kinds(grown), grown.updates[0]!.facts, grown.updates[0]!.lastEventAt, grown.updates[0]!.seen]).toEqual([['refreshed'], { entries: 4 }, T2, true]);
    expect(kinds(planFindings([old], [hit('d', { lastEventAt: T2, severity: 'critical' })], detection))).toEqual(['severity_changed']);
  });

  it('an acknowledged detection stays closed on the same evidence and reopens on newer evidence', () => {
    const acked = stored('d', { status: 'resolved', lastEventAt: T1 });
    expect(planFindings([acked], [hit('d', { lastEventAt: T1 })], detection)).toEqual({ inserts: [], updates: [], events: [] });
    const again = planFindings([acked], [hit('d', { lastEventAt: T2 })], detection);
    expect([kinds(again), again.updates[0]]).toEqual([['reopened'], expect.objectContaining({ status: 'open', resolution: null, reopenedCount: 1 })]);
  });

  it('a rule that gives no event time: different facts are the newer evidence', () => {
    const acked = stored('d', { status: 'resolved', facts: { n: 1 } });
    expect(kinds(planFindings([acked], [hit('d', { facts: { n: 1 } })], detection))).toEqual([]);
    expect(kinds(planFindings([acked], [hit('d', { facts: { n: 2 } })], detection))).toEqual(['reopened']);
  });

  it('a suppression closes them, returned or not, with who and why; new evidence under it is recorded quietly', () => {
    const returned = planFindings([stored('d', { lastEventAt: T1 })], [hit('d', { lastEventAt: T1, suppressionId: 7 })], { ...detection, ...supp });
    expect([kinds(returned), returned.events[0]]).toEqual([['resolved'], expect.objectContaining({ reason: REASONS.suppressed, by: 'bob', note: 'accepted #7' })]);
    expect(returned.updates[0]).toMatchObject({ status: 'resolved', suppressed: true, suppressionId: 7, resolved: true });
    const absent = planFindings([stored('d', { lastEventAt: T1 })], [], { ...detection, ...supp, coveredBy: () => 7 });
    expect([kinds(absent), reasons(absent), absent.updates[0]!.suppressionId]).toEqual([['resolved'], [REASONS.suppressed], 7]);
    const fresh = planFindings([], [hit('d', { lastEventAt: T1, suppressionId: 7 })], { ...detection, ...supp });
    expect([kinds(fresh), fresh.inserts[0]!.status]).toEqual([['opened', 'resolved'], 'resolved']);
    const quiet = planFindings([stored('d', { status: 'resolved', suppressed: true, suppressionId: 7, lastEventAt: T1 })], [hit('d', { lastEventAt: T2, suppressionId: 7 })], detection);
    expect([kinds(quiet), quiet.updates[0]]).toEqual([[], expect.objectContaining({ status: 'resolved', lastEventAt: T2, resolved: false })]);
  });

  it('close when their account is gone, the rule is disabled or removed, or their key is retired', () => {
    const opts = { ...detection, vanished: (f: ExistingFinding) => (f.accountId ? accountGone(f.accountId, 'account not watched (FLAREWATCH_ACCOUNTS)') : undefined) };
    expect(reasons(planFindings([stored('d', { accountId: 'acc' }), stored('e')], [], opts))).toEqual(['account acc account not watched (FLAREWATCH_ACCOUNTS)']);
    expect(reasons(planFindings([stored('d')], [], { ...detection, retire: () => REASONS.ruleRemoved }))).toEqual([REASONS.ruleRemoved]);
  });
});

// The same cases as data: test/integration/findings-merge-sql.test.ts runs them through the SQL merge too.
describe('the shared lifecycle cases', () => {
  it.each(PLAN_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(planCase(c).events.map((e) => [e.transition, e.reason ?? null])).toEqual(c.expected);
  });
});
