// A round in which nothing changed writes only its run records (issue 22, item 1): once the world
// has been walked and checked, the next round's check writes no finding transition, no alert, no
// finding row and no rule_states row. Before the fix an open detection returned again without
// newer evidence was rewritten every check (its last_seen_at), and every rule's rule_states row
// was rewritten (last_checked_at). Real simulator (the round bench's world, small), real sync,
// real PostgreSQL; rows counted by xmin; an injected clock a minute further each round.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../../src/commands/run.js';
import type { Context } from '../../src/context.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let clock = Date.parse('2030-04-01T10:00:00Z');
let db: TestDatabase;
let sim: Simulator;
let ctx: Context;
const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
const markNow = async () => Number((await q(`select txid_current()::bigint % 4294967296 as xid`))[0].xid);
const writtenSince = async (table: string, mark: number) => (await q(`select count(*)::int n from ${table} where xmin::text::bigint > $1`, [mark]))[0].n as number;

/** One round: every stream walked, then the checks and the alerts, a minute after the last. */
async function round() {
  clock += 60_000;
  return runOnce(ctx);
}

beforeAll(async () => {
  sim = await startSimulator({
    seed: 29, now: () => clock, rateLimit: false,
    size: {
      accounts: 3, users: 1, membersPerAccount: 3, accountTokensPerAccount: 2, accountAuditEntries: 20, accountAuditV1Entries: 5,
      userAuditEntries: 5, extraUserAuditEntries: 5, auditDays: 2, userTokens: 2, extraUserTokens: 2, userInvites: 1, organizations: 1, billingHistory: 2, ipAccessRules: 2,
    },
  });
  db = await createTestDatabase();
  ctx = { ...testContext(db, sim, { LOG_LEVEL: 'warn', FLAREWATCH_AUDIT_LAG: '0s' }), now: () => new Date(clock) };
  // The first round finds and checks everything (its findings are the baseline); the second settles nothing new.
  await round();
  await round();
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('a round in which nothing changed', () => {
  it('has open findings of both kinds to leave alone (the test can fail)', async () => {
    const open = await q(`select kind, count(*)::int n from findings where status = 'open' group by 1 order by 1`);
    expect(open.map((r) => r.kind)).toEqual(['detection', 'state']);
    expect(open.every((r) => r.n > 0)).toBe(true);
  });

  it('writes no finding transition, no alert, and no finding row of either kind', async () => {
    const mark = await markNow();
    const r = await round();
    expect(r.ok).toBe(true);
    expect(r.checks!.transitions).toEqual([]);
    expect(await writtenSince('finding_events', mark)).toBe(0);
    expect(await writtenSince('alerts', mark)).toBe(0);
    const rows = await q(`select rule_id, kind, count(*)::int n from findings where xmin::text::bigint > $1 group by 1, 2 order by 1`, [mark]);
    expect(rows).toEqual([]);
  });

  it('writes no rule_states row, and the check run is recorded (check_runs)', async () => {
    const mark = await markNow();
    const r = await round();
    expect(r.checks!.ok).toBe(true);
    expect(await writtenSince('rule_states', mark)).toBe(0);
    expect((await q(`select started_at from check_runs where id = $1 and finished_at is not null`, [r.checks!.checkRunId])).length).toBe(1);
  });
});

describe('an account found by one round and walked by the next (the scheduler discovers, then walks)', () => {
  it("alerts nothing of the new account's existing state, neither when found nor when first walked", async () => {
    const account = sim.world.addAccount();
    account.settings.enforce_twofactor = false;
    const mark = await markNow();
    // The round that finds it: only the accounts listing is walked, its own streams wait for the next round.
    clock += 60_000;
    await runOnce(ctx, { streams: ['accounts'] });
    await round();
    const opened = await q(`select rule_id from findings where account_id = $1 and status = 'open' order by 1`, [account.id]);
    expect(opened.map((r) => r.rule_id)).toContain('account-2fa-not-enforced');
    const alerted = await q(`select f.rule_id, a.kind from alerts a join findings f on f.id = a.finding_id where f.account_id = $1 and a.xmin::text::bigint > $2 order by 1`, [account.id, mark]);
    expect(alerted).toEqual([]);
    // Once walked, a change on it is news again.
    const token = sim.world.addAccountToken(account.id, { name: 'made after the account was found', expires_on: undefined });
    const later = await markNow();
    await round();
    const news = await q(`select f.rule_id, f.resource_key from alerts a join findings f on f.id = a.finding_id where a.kind = 'opened' and a.xmin::text::bigint > $1`, [later]);
    expect(news).toContainEqual({ rule_id: 'token-no-expiry', resource_key: `token:${token.id}` });
    expect(news.every((r) => r.resource_key === `token:${token.id}`)).toBe(true);
  });
});
