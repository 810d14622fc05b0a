import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSuppression, formatSuppressionList, parseExpiry, removeSuppression } from '../../src/commands/suppress.js';
import { fingerprint } from '../../src/findings/fingerprint.js';
import { runChecks } from '../../src/rules/engine.js';
import { checkContext, fakeRule, tokenHit, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let ctx: CheckTestContext;
const T0 = new Date('2030-06-01T00:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
const finding = async (ruleId: string, key: string) =>
  (await db.pool.query(`select status, suppressed, suppression_id::int from findings where fingerprint = $1`, [fingerprint(ruleId, key)])).rows[0];
const transitions = async (ruleId: string, key: string) =>
  (await db.pool.query(`select e.transition from finding_events e join findings f on f.id = e.finding_id where f.fingerprint = $1 order by e.id`, [fingerprint(ruleId, key)])).rows.map((r) => r.transition);

const { rule, state } = fakeRule('fake.supp');
const other = fakeRule('fake.other');

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = checkContext(db, { now: T0 });
  state.hits = [tokenHit('exact'), tokenHit('ci-1'), tokenHit('ci-2'), tokenHit('expiring'), tokenHit('later')];
  other.state.hits = [tokenHit('ci-1')];
});
afterAll(async () => db?.drop());

describe('suppressions', () => {
  it('an exact suppression flags a new finding suppressed from the start (still visible, "opened")', async () => {
    const s = await addSuppression(ctx, { ruleId: 'fake.supp', resourcePattern: 'token:exact', reason: 'break-glass token, reviewed quarterly', createdBy: 'alice' });
    await runChecks(ctx, { rules: [rule, other.rule] });
    expect(await finding('fake.supp', 'token:exact')).toEqual({ status: 'open', suppressed: true, suppression_id: s.id });
    expect(await transitions('fake.supp', 'token:exact')).toEqual(['opened']);
    expect(await finding('fake.supp', 'token:later')).toMatchObject({ suppressed: false });
  });

  it('a glob pattern covers every matching resource of that rule only; "*" covers every rule', async () => {
    await addSuppression(ctx, { ruleId: 'fake.supp', resourcePattern: 'token:ci-*', reason: 'CI tokens rotate weekly' });
    await addSuppression(ctx, { ruleId: '*', resourcePattern: 'token:later', reason: 'owned by the vendor' });
    ctx.setNow(at(1));
    const r = await runChecks(ctx, { rules: [rule, other.rule] });
    for (const key of ['token:ci-1', 'token:ci-2', 'token:later']) {
      expect(await finding('fake.supp', key)).toMatchObject({ suppressed: true });
      expect(await transitions('fake.supp', key)).toEqual(['opened', 'suppressed']);
    }
    expect(await finding('fake.other', 'token:ci-1')).toMatchObject({ suppressed: false });
    expect(r.open.get('fake.supp')).toEqual({ open: 1, suppressed: 4 });
  });

  it('an expired suppression unsuppresses its findings and records it', async () => {
    await addSuppression(ctx, { ruleId: 'fake.supp', resourcePattern: 'token:expiring', reason: 'fix scheduled', expires: '2h' });
    ctx.setNow(at(1.5));
    await runChecks(ctx, { rules: [rule] });
    expect(await finding('fake.supp', 'token:expiring')).toMatchObject({ suppressed: true });
    ctx.setNow(at(4));
    const r = await runChecks(ctx, { rules: [rule] });
    expect(await finding('fake.supp', 'token:expiring')).toEqual({ status: 'open', suppressed: false, suppression_id: null });
    expect(r.transitions).toMatchObject([{ resourceKey: 'token:expiring', transition: 'unsuppressed', suppressed: false }]);
    expect(await transitions('fake.supp', 'token:expiring')).toEqual(['opened', 'suppressed', 'unsuppressed']);
    expect(await formatSuppressionList(ctx, false)).toMatch(/token:expiring\s+expired/);
  });

  it('removing a suppression unsuppresses at the next check', async () => {
    const list = JSON.parse(await formatSuppressionList(ctx, true)) as Array<{ id: number; resourcePattern: string; findings: number }>;
    const exact = list.find((s) => s.resourcePattern === 'token:exact')!;
    expect(exact.findings).toBe(1);
    expect(await removeSuppression(ctx, exact.id)).toBe(true);
    expect(await removeSuppression(ctx, exact.id)).toBe(false);
    await runChecks(ctx, { rules: [rule] });
    expect(await finding('fake.supp', 'token:exact')).toMatchObject({ suppressed: false });
  });

  it('needs a reason, and an expiry that parses and lies ahead', async () => {
    await expect(addSuppression(ctx, { ruleId: 'x', resourcePattern: 'y', reason: '  ' })).rejects.toThrow(/reason/);
    expect(parseExpiry('30d', T0)).toEqual(new Date(T0.getTime() + 30 * 86_400_000));
    expect(parseExpiry('2031-01-01', T0)).toEqual(new Date('2031-01-01T00:00:00Z'));
    expect(() => parseExpiry('soon', T0)).toThrow(/--expires/);
    expect(() => parseExpiry('2020-01-01', T0)).toThrow(/past/);
  });
});
