// Facts that count days from now (a token's age, days unused, days left before expiry, days since
// expiry, an invitation's age) must not make a check write anything when only the clock moved:
// time passing is not a change in the world (issue 22, item 1). Readers still see the day count
// of the moment they read (finding_facts(), migration 0030). A threshold the clock crosses is a
// real change: it opens, resolves or re-ranks findings as before. Real simulator on the test's
// clock, real sync, real PostgreSQL; rows counted by xmin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../../src/commands/run.js';
import type { Context } from '../../src/context.js';
import { insertDueReminders } from '../../src/db/queries/alerts.js';
import { listFindings } from '../../src/db/queries/findings-read.js';
import { BUILTIN_RULES } from '../../src/rules/catalog.js';
import { resolveRuleSettings } from '../../src/rules/config.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { Token } from '../../src/simulator/tokens.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { DAY_MS, daysFromNow } from '../helpers/rules.js';

let clock = Date.parse('2030-04-01T10:00:00Z');
let db: TestDatabase;
let sim: Simulator;
let ctx: Context;
const ids: Record<string, string> = {};
const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
const markNow = async () => Number((await q(`select txid_current()::bigint % 4294967296 as xid`))[0].xid);
const writtenSince = async (table: string, mark: number) => (await q(`select count(*)::int n from ${table} where xmin::text::bigint > $1`, [mark]))[0].n as number;
const ago = (days: number) => daysFromNow(-days, clock);

/** The rules with a fact counted from now, and the token (or invitation) that makes each one hit. */
const DAY_RULES: Array<[rule: string, key: string, fact: string]> = [
  ['token-never-used', 'token:never-used', 'age_days'],
  ['token-unused', 'token:unused', 'days_unused'],
  ['token-not-rotated', 'token:old', 'age_days'],
  ['token-expiring', 'token:expiring', 'days_left'],
  ['token-expired-present', 'token:expired', 'days_since_expiry'],
  ['invite-pending', 'invite:inv-old', 'age_days'],
  ['invite-stale', 'invite:inv-old', 'age_days'],
];
const keyOf = (k: string) => (k.startsWith('token:') ? `token:${ids[k.slice(6)]}` : k);

/** What each rule builds from scratch at `now`, by resource key. */
async function built(ruleId: string, now: Date): Promise<Map<string, { severity: string; facts: Record<string, unknown> }>> {
  const rule = BUILTIN_RULES.find((r) => r.id === ruleId)!;
  const { thresholds } = resolveRuleSettings(rule, ctx.config);
  const hits = await rule.evaluate({ db: db.db as never, pool: db.db, config: ctx.config, now, thresholds });
  return new Map(hits.map((h) => [h.resourceKey, { severity: h.severity ?? rule.severity, facts: h.facts }]));
}

/** An open finding's facts as readers see them at `at` (finding_facts()), and as stored. */
async function factsAt(ruleId: string, key: string, at: Date) {
  const [row] = await q(`select finding_facts(f, $3) as now, f.facts as stored from findings f where rule_id = $1 and resource_key = $2 and status = 'open'`, [ruleId, key, at]);
  return row as { now: Record<string, unknown>; stored: Record<string, unknown> } | undefined;
}

/** One round (every stream walked, then the checks and alerts) `days` after the last. */
async function roundAfter(days: number) {
  clock += days * DAY_MS;
  const r = await runOnce(ctx);
  expect(r.ok).toBe(true);
  return r;
}

beforeAll(async () => {
  sim = await startSimulator({
    seed: 31, now: () => clock, rateLimit: false,
    size: {
      accounts: 1, users: 1, membersPerAccount: 1, accountTokensPerAccount: 0, userTokens: 0, extraUserTokens: 0, userInvites: 0, organizations: 1,
      accountAuditEntries: 0, accountAuditV1Entries: 0, userAuditEntries: 0, extraUserAuditEntries: 0, billingHistory: 0, ipAccessRules: 0,
    },
  });
  const w = sim.world;
  const base: Partial<Token> = {
    status: 'active', issued_on: ago(10), modified_on: ago(10), last_used_on: ago(1), expires_on: daysFromNow(200, clock),
    condition: { request_ip: { in: ['192.0.2.0/24'] } }, policies: [],
  };
  const add = (label: string, patch: Partial<Token>) => { ids[label] = w.addUserToken({ ...base, name: label, ...patch }).id; };
  add('never-used', { last_used_on: undefined, issued_on: ago(60), modified_on: ago(60) });
  add('unused', { last_used_on: ago(120) });
  add('old', { issued_on: ago(500), modified_on: ago(400) });
  add('expiring', { expires_on: daysFromNow(20.5, clock) });
  add('expired', { expires_on: ago(3), last_used_on: ago(4) });
  // Just short of a threshold: the clock alone takes them over it.
  add('nearly-never-used', { last_used_on: undefined, issued_on: ago(29.5), modified_on: ago(29.5) });
  add('nearly-unused', { last_used_on: ago(89.5) });
  add('nearly-old', { issued_on: ago(364.5), modified_on: ago(364.5) });
  add('nearly-expired', { expires_on: daysFromNow(1.1, clock) });
  add('nearly-medium', { expires_on: daysFromNow(7.5, clock) });
  w.userInvites.push({
    id: 'inv-old', invited_member_id: null, invited_member_email: w.user.email, organization_id: 'org-x', organization_name: 'Org X',
    organization_is_enforcing_twofactor: false, invited_by: 'someone@example.com', invited_on: ago(20), expires_on: daysFromNow(300, clock),
    roles: ['Administrator'], status: 'pending',
  });
  db = await createTestDatabase();
  ctx = { ...testContext(db, sim, { LOG_LEVEL: 'warn', FLAREWATCH_AUDIT_LAG: '0s' }), now: () => new Date(clock) };
  // The first round finds and checks everything; the second settles it.
  await roundAfter(0);
  await roundAfter(1 / 1440);
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('days passing, nothing else changed', () => {
  it('every rule with a day count has its finding open (the test can fail)', async () => {
    for (const [rule, key] of DAY_RULES) expect(await factsAt(rule, keyOf(key), new Date(clock)), `${rule} ${key}`).toBeDefined();
  });

  it('writes no finding row, no event and no alert, for one day and for several', async () => {
    for (const days of [0.25, 1, 3]) {
      // Keep clear of the thresholds: only the day counts move.
      const mark = await markNow();
      const r = await roundAfter(days);
      const rows = await q(`select rule_id, resource_name from findings where xmin::text::bigint > $1 order by 1, 2`, [mark]);
      expect(rows.filter((x) => !x.resource_name?.startsWith('nearly')), `${days} day(s) later: findings written`).toEqual([]);
      expect(r.checks!.transitions.filter((t) => !t.resourceName?.startsWith('nearly')).map((t) => `${t.ruleId} ${t.transition}`)).toEqual([]);
      const events = await q(`select f.rule_id, f.resource_name, e.transition from finding_events e join findings f on f.id = e.finding_id where e.xmin::text::bigint > $1`, [mark]);
      expect(events.filter((e) => !e.resource_name?.startsWith('nearly'))).toEqual([]);
      const alerts = await q(`select f.rule_id, f.resource_name, a.kind from alerts a join findings f on f.id = a.finding_id where a.xmin::text::bigint > $1`, [mark]);
      expect(alerts.filter((a) => !a.resource_name?.startsWith('nearly'))).toEqual([]);
      if (days === 0.25) continue;
      // The nearly-* tokens crossed their thresholds on the first full day: that round wrote them, the next writes nothing at all.
      if (days === 3) {
        expect(rows).toEqual([]);
        expect(events).toEqual([]);
      }
    }
  });

  it('readers see the day count of the moment they read, as the rule would build it then', async () => {
    const now = new Date(clock);
    for (const [rule, key, fact] of DAY_RULES) {
      const expected = (await built(rule, now)).get(keyOf(key))!;
      const seen = (await factsAt(rule, keyOf(key), now))!;
      expect(seen.now, `${rule} ${key}`).toEqual(expected.facts);
      // The stored count is the one of the day the finding was written (4+ days ago): readers do not show it.
      expect(seen.stored[fact], `${rule} ${key} stored ${fact}`).not.toBe(expected.facts[fact]);
    }
    // The commands' and exports' reader (findings list / show) and the open_findings view count to their own now (PostgreSQL's clock here).
    const real = Date.now();
    const listed = await listFindings(db.db, { ruleId: 'token-unused', status: 'open' });
    const unused = listed.find((f) => f.resourceKey === keyOf('token:unused'))!;
    const facts = unused.facts as Record<string, unknown>;
    const lastUsed = Date.parse(facts.last_used_on as string);
    expect(facts.days_unused).toBe(Math.floor((real - lastUsed) / DAY_MS));
    const [view] = await q(`select facts from open_findings where rule_id = 'token-unused' and resource_key = $1`, [keyOf('token:unused')]);
    expect(view.facts.days_unused).toBe(Math.floor((real - lastUsed) / DAY_MS));
  });
});

describe('the clock crossing a threshold is a change', () => {
  it('opened the findings the thresholds now cover, resolved the expired token\'s expiry warning, and raised a tier', async () => {
    const open = async (rule: string, label: string) => (await q(`select severity from findings where rule_id = $1 and resource_key = $2 and status = 'open'`, [rule, `token:${ids[label]}`]))[0];
    expect(await open('token-never-used', 'nearly-never-used')).toBeDefined();
    expect(await open('token-unused', 'nearly-unused')).toBeDefined();
    expect(await open('token-not-rotated', 'nearly-old')).toBeDefined();
    expect(await open('token-expired-present', 'nearly-expired')).toBeDefined();
    expect(await open('token-expiring', 'nearly-expired')).toBeUndefined();
    expect((await open('token-expiring', 'nearly-medium')).severity).toBe('medium');
    const events = await q(`select f.rule_id, e.transition from finding_events e join findings f on f.id = e.finding_id where f.resource_key = $1 and f.rule_id = 'token-expiring' order by e.id`, [`token:${ids['nearly-medium']}`]);
    expect(events.map((e) => `${e.rule_id} ${e.transition}`)).toEqual(['token-expiring opened', 'token-expiring severity_changed']);
  });

  it('the expiry warning resolved when the token expired records the count of that moment, not the stored one', async () => {
    const key = `token:${ids['nearly-expired']}`;
    const [r] = await q(`select e.facts, e.at, f.facts as stored from finding_events e join findings f on f.id = e.finding_id
                         where f.rule_id = 'token-expiring' and f.resource_key = $1 and e.transition = 'resolved'`, [key]);
    const expires = Date.parse(r.facts.expires_on);
    expect(r.facts.days_left).toBe(Math.floor((expires - r.at.getTime()) / DAY_MS));
    expect(r.facts.days_left).toBeLessThan(0);
    expect(r.stored.days_left).toBeGreaterThanOrEqual(0);
  });

  it('alerts carry the day count of their moment: the opening alert then, a reminder days later now', async () => {
    const key = `token:${ids['nearly-unused']}`;
    const lastUsed = Date.parse((await factsAt('token-unused', key, new Date(clock)))!.stored.last_used_on as string);
    const count = (at: number) => Math.floor((at - lastUsed) / DAY_MS);
    const [opened] = await q(`select a.event -> 'facts' as facts, a.created_at from alerts a join findings f on f.id = a.finding_id
                              where f.rule_id = 'token-unused' and f.resource_key = $1 and a.kind = 'opened'`, [key]);
    expect(opened.facts.days_unused).toBe(count(opened.created_at.getTime()));
    // Days later the stored row still holds the count of the day it opened; a reminder shows today's.
    expect(count(clock)).toBeGreaterThan(opened.facts.days_unused);
    const at = new Date(clock);
    await db.db.transaction((tx) => insertDueReminders(tx, 'state', at, at));
    const [reminder] = await q(`select a.event -> 'facts' as facts from alerts a join findings f on f.id = a.finding_id
                                where f.rule_id = 'token-unused' and f.resource_key = $1 and a.kind = 'reminder'`, [key]);
    expect(reminder.facts.days_unused).toBe(count(clock));
  });

  it('the expiring token crossing into the 7-day tier is a severity change with the current count', async () => {
    const f = await factsAt('token-expiring', `token:${ids['nearly-medium']}`, new Date(clock));
    expect(f!.now).toEqual((await built('token-expiring', new Date(clock))).get(`token:${ids['nearly-medium']}`)!.facts);
  });
});

describe('upgrading from findings written before day counts were declared (migration 0030)', () => {
  it('one refreshed event per token-never-used / token-not-rotated finding (the new age_since fact), other findings only rehashed; then nothing', async () => {
    // The state the old code left: no declarations, no age_since fact, hashes of other inputs (seeded by other code).
    await q(`update rule_states set day_facts = '{}'`);
    await q(`update findings set facts = facts - 'age_since' where rule_id in ('token-never-used', 'token-not-rotated')`);
    await q(`update findings set input_hash = input_hash + 1 where input_hash is not null`);
    const mark = await markNow();
    const r = await roundAfter(1);
    const refreshed = r.checks!.transitions.map((t) => `${t.ruleId} ${t.transition}`);
    const open = await q(`select rule_id, count(*)::int n from findings where status = 'open' and rule_id in ('token-never-used', 'token-not-rotated') group by 1 order by 1`);
    expect(open.map((o) => o.rule_id)).toEqual(['token-never-used', 'token-not-rotated']);
    expect(refreshed.sort()).toEqual(open.flatMap((o) => Array.from({ length: o.n }, () => `${o.rule_id} refreshed`)).sort());
    expect(await writtenSince('alerts', mark)).toBe(0);
    const steady = await markNow();
    const again = await roundAfter(1);
    expect(again.checks!.transitions).toEqual([]);
    expect(await writtenSince('findings', steady)).toBe(0);
    expect(await writtenSince('rule_states', steady)).toBe(0);
  });
});
