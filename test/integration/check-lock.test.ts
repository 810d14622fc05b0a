// One check at a time: every check run, from any process, takes the daemon's check lock, and the
// rules evaluate inside it, so an older evaluation can never be written over a newer one.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkCommand } from '../../src/commands/check.js';
import { runChecks } from '../../src/rules/engine.js';
import type { Rule, RuleHit } from '../../src/rules/types.js';
import { withStreamLock } from '../../src/sync/stream-lock.js';
import { checkContext, fakeRule, tokenHit, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let ctx: CheckTestContext;
const q = async (text: string) => (await db.pool.query(text)).rows;

/** Wait for a condition the code under test makes true (bounded, so a broken build fails instead of hanging). */
async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}
const waiting = () => ctx.logLines.filter((l) => l.includes('another check run is in progress')).length;

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = checkContext(db);
});
afterAll(async () => db?.drop());

it('flarewatch check waits while a check run holds the lock elsewhere (the daemon\'s), then runs', async () => {
  const { rule, state } = fakeRule('lock.cli');
  state.hits = [tokenHit('a')];
  let release!: () => void;
  let held!: () => void;
  const holding = new Promise<void>((ok) => (held = ok));
  // What the daemon's checks job holds while it checks (withStreamLock(db, 'checks', …) on its own connection).
  const other = withStreamLock(db.db, 'checks', () => new Promise<void>((ok) => { release = ok; held(); }));
  await holding;
  const checking = checkCommand(ctx, { rules: [rule] });
  await until('the check command waits for the lock', () => waiting() === 1);
  expect(await q(`select id from check_runs`)).toEqual([]);
  release();
  await other;
  expect((await checking).exitCode).toBe(0);
  expect(await q(`select status from check_runs`)).toEqual([{ status: 'succeeded' }]);
});

it('rules evaluate inside the lock: a newer evaluation is never overwritten by an older one', async () => {
  const order: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((ok) => (open = ok));
  let calls = 0;
  // The first run sees the token still broad; by the second, it was fixed.
  const views: RuleHit[][] = [[tokenHit('x')], []];
  const rule: Rule = {
    id: 'lock.race', title: 'race', severity: 'high', rationale: '', remediation: '',
    async evaluate() {
      const i = calls++;
      order.push(`start ${i}`);
      if (i === 0) await gate;
      order.push(`end ${i}`);
      return views[i]!;
    },
  };
  const before = waiting();
  const older = runChecks(ctx, { rules: [rule] });
  await until('the first evaluation started', () => order.length === 1);
  const newer = runChecks(ctx, { rules: [rule] });
  await until('the second run waits for the first', () => waiting() === before + 1);
  open();
  await Promise.all([older, newer]);
  expect(order).toEqual(['start 0', 'end 0', 'start 1', 'end 1']);
  expect(await q(`select status from findings where rule_id = 'lock.race'`)).toEqual([{ status: 'resolved' }]);
});
