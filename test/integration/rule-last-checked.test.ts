// When an open state finding was last seen is its rule's last successful check (finding_last_seen,
// migrations 0013 and 0027). A check run no longer rewrites each rule's rule_states row to record
// it: a rule that succeeded in every finished run since its row was written takes the latest
// finished run's start. What must hold: a steady check writes no rule_states row, and a rule that
// failed, was left out of a run, or was disabled keeps the time of its last success (its findings
// are not "seen" by a run that did not check them), also when such a finding is resolved later.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/rules/engine.js';
import { checkContext, fakeRule, tokenHit, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let ctx: CheckTestContext;
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
const markNow = async () => Number((await q(`select txid_current()::bigint % 4294967296 as xid`))[0].xid);
const statesWrittenSince = async (mark: number) =>
  (await q(`select rule_id from rule_states where xmin::text::bigint > $1 order by 1`, [mark])).map((r) => r.rule_id as string);
/** Each open finding's "last seen", by rule. */
const lastSeen = async () =>
  Object.fromEntries((await q(`select rule_id, finding_last_seen(f) as at from findings f where f.status = 'open' order by rule_id`)).map((r) => [r.rule_id, (r.at as Date).toISOString()]));

const a = fakeRule('fake.a');
const b = fakeRule('fake.b');
const both = [a.rule, b.rule];

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = checkContext(db, { now: T0 });
  a.state.hits = [tokenHit('a')];
  b.state.hits = [tokenHit('b')];
  await runChecks(ctx, { rules: both });
});
afterAll(async () => db?.drop());

describe("a rule's last successful check", () => {
  it('a steady check writes no rule_states row, and every open finding was seen by it', async () => {
    ctx.setNow(at(10));
    await runChecks(ctx, { rules: both });
    ctx.setNow(at(20));
    const mark = await markNow();
    await runChecks(ctx, { rules: both });
    expect(await statesWrittenSince(mark)).toEqual([]);
    expect(await lastSeen()).toEqual({ 'fake.a': at(20).toISOString(), 'fake.b': at(20).toISOString() });
  });

  it('a rule that fails keeps the time of its last success; only its row is written', async () => {
    ctx.setNow(at(30));
    b.state.throws = 'boom';
    const mark = await markNow();
    const r = await runChecks(ctx, { rules: both });
    expect(r.outcomes.map((o) => o.status)).toEqual(['succeeded', 'failed']);
    expect(await statesWrittenSince(mark)).toEqual(['fake.b']);
    expect(await lastSeen()).toEqual({ 'fake.a': at(30).toISOString(), 'fake.b': at(20).toISOString() });
    // Still failing: nothing more to write.
    ctx.setNow(at(40));
    const again = await markNow();
    await runChecks(ctx, { rules: both });
    expect(await statesWrittenSince(again)).toEqual([]);
    expect(await lastSeen()).toEqual({ 'fake.a': at(40).toISOString(), 'fake.b': at(20).toISOString() });
  });

  it('a run that leaves a rule out does not count as its check', async () => {
    b.state.throws = undefined;
    ctx.setNow(at(50));
    await runChecks(ctx, { rules: both });
    ctx.setNow(at(60));
    await runChecks(ctx, { rules: [a.rule] });
    expect(await lastSeen()).toEqual({ 'fake.a': at(60).toISOString(), 'fake.b': at(50).toISOString() });
  });

  it('a finding resolved after its rule was left out records the last check that saw it', async () => {
    ctx.setNow(at(70));
    b.state.hits = [];
    await runChecks(ctx, { rules: both });
    const row = (await q(`select status, last_seen_at, resolved_at from findings where rule_id = 'fake.b'`))[0];
    expect([row.status, row.last_seen_at, row.resolved_at]).toEqual(['resolved', at(50), at(70)]);
    expect(await lastSeen()).toEqual({ 'fake.a': at(70).toISOString() });
  });

  it('a disabled rule is written once, not every run', async () => {
    const off = checkContext(db, { now: at(80), rules: { 'fake.a': { enabled: false } } });
    const mark = await markNow();
    await runChecks(off, { rules: both });
    expect(await statesWrittenSince(mark)).toEqual(['fake.a']);
    off.setNow(at(90));
    const again = await markNow();
    await runChecks(off, { rules: both });
    expect(await statesWrittenSince(again)).toEqual([]);
  });
});
