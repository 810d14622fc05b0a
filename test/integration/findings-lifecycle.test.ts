import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/rules/engine.js';
import { sqlRule } from '../../src/rules/sql.js';
import { fingerprint } from '../../src/findings/fingerprint.js';
import { checkContext, fakeRule, tokenHit, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let ctx: CheckTestContext;
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
const finding = async (ruleId: string, key: string) => (await q(`select * from findings where fingerprint = $1`, [fingerprint(ruleId, key)]))[0];
// When a finding was last seen: an open state finding returned unchanged is not rewritten, its rule's last check saw it.
const lastSeen = async (id: number) => (await q(`select finding_last_seen(f) as at from findings f where f.id = $1`, [id]))[0].at;
const events = async (ruleId: string, key: string) =>
  (await q(`select e.transition, e.from_severity, e.to_severity, e.facts from finding_events e join findings f on f.id = e.finding_id where f.fingerprint = $1 order by e.id`, [fingerprint(ruleId, key)]));

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = checkContext(db, { now: T0 });
});
afterAll(async () => db?.drop());

describe('the finding lifecycle', () => {
  const { rule, state } = fakeRule('fake.lifecycle', { severity: 'medium' });

  it('opens a finding per new hit, with its facts, and records "opened"', async () => {
    state.hits = [tokenHit('a', { n: 1 }), tokenHit('b', { n: 1 })];
    const r = await runChecks(ctx, { rules: [rule] });
    expect(r.outcomes[0]).toMatchObject({ status: 'succeeded', hits: 2, opened: 2, resolved: 0 });
    expect(r.transitions.map((t) => [t.resourceKey, t.transition])).toEqual([['token:a', 'opened'], ['token:b', 'opened']]);
    const a = await finding('fake.lifecycle', 'token:a');
    expect(a).toMatchObject({ status: 'open', severity: 'medium', suppressed: false, resource_type: 'token', resource_name: 'token a', account_id: 'acc1', title: 'fake rule fake.lifecycle', facts: { n: 1 }, reopened_count: 0, resolved_at: null });
    expect(a.first_seen_at).toEqual(T0);
    expect(await events('fake.lifecycle', 'token:a')).toEqual([{ transition: 'opened', from_severity: null, to_severity: 'medium', facts: { n: 1 } }]);
  });

  it('refreshes open findings: last_seen_at always, an event only when the facts changed', async () => {
    ctx.setNow(at(10));
    state.hits = [tokenHit('a', { n: 1 }), tokenHit('b', { n: 2 })];
    const r = await runChecks(ctx, { rules: [rule] });
    expect(r.transitions.map((t) => [t.resourceKey, t.transition])).toEqual([['token:b', 'refreshed']]);
    const a = await finding('fake.lifecycle', 'token:a');
    expect([await lastSeen(a.id), a.updated_at, a.first_seen_at]).toEqual([at(10), T0, T0]);
    const b = await finding('fake.lifecycle', 'token:b');
    expect([b.facts, b.updated_at]).toEqual([{ n: 2 }, at(10)]);
    expect((await events('fake.lifecycle', 'token:b')).map((e) => e.transition)).toEqual(['opened', 'refreshed']);
  });

  it('records a severity change with both severities', async () => {
    ctx.setNow(at(20));
    state.hits = [tokenHit('a', { n: 1 }, 'critical'), tokenHit('b', { n: 2 })];
    const r = await runChecks(ctx, { rules: [rule] });
    expect(r.transitions).toMatchObject([{ resourceKey: 'token:a', transition: 'severity_changed', fromSeverity: 'medium', toSeverity: 'critical', severity: 'critical' }]);
    expect((await finding('fake.lifecycle', 'token:a')).severity).toBe('critical');
  });

  it('resolves findings the rule no longer returns', async () => {
    ctx.setNow(at(30));
    state.hits = [tokenHit('b', { n: 2 })];
    const r = await runChecks(ctx, { rules: [rule] });
    expect(r.outcomes[0]).toMatchObject({ resolved: 1, opened: 0 });
    expect(r.transitions).toMatchObject([{ resourceKey: 'token:a', transition: 'resolved', fromSeverity: 'critical', toSeverity: null }]);
    const a = await finding('fake.lifecycle', 'token:a');
    expect([a.status, a.resolved_at, a.last_seen_at, await lastSeen(a.id)]).toEqual(['resolved', at(30), at(20), at(20)]);
    expect(r.open.get('fake.lifecycle')).toEqual({ open: 1, suppressed: 0 });
  });

  it('leaves resolved findings alone while they stay absent', async () => {
    ctx.setNow(at(35));
    const r = await runChecks(ctx, { rules: [rule] });
    expect(r.transitions).toEqual([]);
  });

  it('reopens a resolved finding that comes back, counting reopenings, keeping its identity', async () => {
    const before = await finding('fake.lifecycle', 'token:a');
    ctx.setNow(at(40));
    state.hits = [tokenHit('a', { n: 3 }), tokenHit('b', { n: 2 })];
    const r = await runChecks(ctx, { rules: [rule] });
    expect(r.transitions).toMatchObject([{ resourceKey: 'token:a', transition: 'reopened', fromSeverity: 'critical', toSeverity: 'medium' }]);
    expect(r.outcomes[0]).toMatchObject({ opened: 0, reopened: 1 });
    const a = await finding('fake.lifecycle', 'token:a');
    expect(a).toMatchObject({ id: before.id, status: 'open', resolved_at: null, reopened_count: 1, facts: { n: 3 } });
    expect(a.first_seen_at).toEqual(T0);
    expect((await events('fake.lifecycle', 'token:a')).map((e) => e.transition)).toEqual(['opened', 'severity_changed', 'resolved', 'reopened']);
  });

  it('records each check run with its totals', async () => {
    const runs = await q(`select status, rules_run, rules_failed, findings_opened, findings_resolved, findings_open, finished_at from check_runs order by id`);
    expect(runs).toHaveLength(6);
    expect(runs[0]).toMatchObject({ status: 'succeeded', rules_run: 1, rules_failed: 0, findings_opened: 2, findings_resolved: 0, findings_open: 2 });
    expect(runs[3]).toMatchObject({ findings_resolved: 1, findings_open: 1 });
    expect(runs[5]).toMatchObject({ findings_opened: 1, findings_open: 2 });
    for (const run of runs) expect(run.finished_at).toBeInstanceOf(Date);
    const evs = await q(`select count(*)::int as n from finding_events where check_run_id is null`);
    expect(evs[0].n).toBe(0);
  });
});

describe('isolation', () => {
  it('a rule that throws is reported and skipped; the others run; its findings are left as they were', async () => {
    const bad = fakeRule('fake.throws');
    const good = fakeRule('fake.good');
    bad.state.hits = [tokenHit('x')];
    await runChecks(ctx, { rules: [bad.rule] });
    bad.state.throws = 'boom: relation "nope" does not exist';
    good.state.hits = [tokenHit('y')];
    const r = await runChecks(ctx, { rules: [bad.rule, good.rule] });
    expect(r.ok).toBe(false);
    expect(r.outcomes.map((o) => [o.ruleId, o.status])).toEqual([['fake.throws', 'failed'], ['fake.good', 'succeeded']]);
    expect(r.outcomes[0]!.reason).toContain('boom');
    expect((await finding('fake.throws', 'token:x')).status).toBe('open');
    expect((await finding('fake.good', 'token:y')).status).toBe('open');
    const [run] = await q(`select status, rules_failed, rules_run, errors, error_summary from check_runs order by id desc limit 1`);
    expect(run).toMatchObject({ status: 'failed', rules_failed: 1, rules_run: 1, errors: [{ rule: 'fake.throws', error: 'boom: relation "nope" does not exist' }] });
    expect(ctx.logLines.some((l) => l.includes('rule failed') && l.includes('fake.throws'))).toBe(true);
  });

  it('a hit without a resource key fails its rule, not the run', async () => {
    const broken = fakeRule('fake.nokey');
    broken.state.hits = [{ resourceKey: '', resourceType: 'token', facts: {} }];
    const r = await runChecks(ctx, { rules: [broken.rule] });
    expect(r.outcomes[0]).toMatchObject({ status: 'failed', reason: 'a hit has no resourceKey' });
  });

  it('a set-based rule whose query returns a broken hit fails with what is wrong, and its findings stay as they were', async () => {
    const rule = (id: string, select: string) => sqlRule({ id, title: id, severity: 'low', rationale: '', remediation: '', hitsQuery: () => sql.raw(select) });
    const row = (key: string, severity = 'null', facts = `'{}'::jsonb`) =>
      `select ${key} as resource_key, 'token' as resource_type, null as resource_name, null as account_id, ${severity}::text as severity, ${facts} as facts, null::timestamptz as last_event_at`;
    const good = await runChecks(ctx, { rules: [rule('fake.sql', row(`'token:q'`))] });
    expect(good.outcomes[0]).toMatchObject({ status: 'succeeded', hits: 1, opened: 1 });
    const cases: Array<[string, string]> = [
      [row(`''`), 'a hit has no resource key'],
      [row('null'), 'a hit has no resource key'],
      [row(`'token:q'`, `'urgent'`), 'a hit has an unknown severity'],
      [row(`'token:q'`, 'null', `'[1]'::jsonb`), "a hit's facts are not an object"],
    ];
    for (const [select, reason] of cases) {
      const r = await runChecks(ctx, { rules: [rule('fake.sql', select)] });
      expect(r.outcomes[0], select).toMatchObject({ status: 'failed', reason });
      expect((await finding('fake.sql', 'token:q')).status).toBe('open');
    }
  });

  it('skips rules that need the audit archive while it is empty, without resolving their findings', async () => {
    const audit = fakeRule('fake.audit', { requires: ['audit_logs'] });
    audit.state.hits = [tokenHit('z')];
    const r = await runChecks(ctx, { rules: [audit.rule] });
    expect(r.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'the audit-log archive is empty' });
    expect(await finding('fake.audit', 'token:z')).toBeUndefined();
  });
});

describe('rule settings from config', () => {
  it('applies enabled, severity and thresholds; rejects unknown keys', async () => {
    const thresholds = { days: { default: 30, description: 'days' }, names: { default: ['a'], description: 'names' } };
    const a = fakeRule('cfg.a', { thresholds });
    const b = fakeRule('cfg.b');
    const c = fakeRule('cfg.c');
    const d = fakeRule('cfg.d');
    for (const r of [a, b, c, d]) r.state.hits = [tokenHit('t', {}, 'low')];
    const local = checkContext(db, {
      now: at(100),
      rules: { 'cfg.a': { days: '7', names: 'x, y' }, 'cfg.b': { enabled: false }, 'cfg.c': { severity: 'high' }, 'cfg.d': { dayz: 3 } },
    });
    const r = await runChecks(local, { rules: [a.rule, b.rule, c.rule, d.rule] });
    expect(a.state.lastThresholds).toEqual({ days: 7, names: ['x', 'y'] });
    expect(r.outcomes.map((o) => [o.ruleId, o.status])).toEqual([['cfg.a', 'succeeded'], ['cfg.b', 'disabled'], ['cfg.c', 'succeeded'], ['cfg.d', 'failed']]);
    expect(r.outcomes[3]!.reason).toContain('rules.cfg.d.dayz: unknown setting');
    // A hit's own severity stands, unless config overrides the rule's severity.
    expect((await finding('cfg.a', 'token:t')).severity).toBe('low');
    expect((await finding('cfg.c', 'token:t')).severity).toBe('high');
    expect(await finding('cfg.b', 'token:t')).toBeUndefined();
  });
});
