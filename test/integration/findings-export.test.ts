import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { parse as parseJunit, type TestSuites } from 'junit2json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportFindings } from '../../src/commands/findings-export.js';
import { runChecks } from '../../src/rules/engine.js';
import { checkContext, fakeRule, tokenHit, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;

let db: TestDatabase;
let ctx: CheckTestContext;
const high = fakeRule('fake.high', { severity: 'high' });
const low = fakeRule('fake.low', { severity: 'low' });

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = checkContext(db, { rules: {} });
  // A name from Cloudflare that would break naive XML or JSON.
  high.state.hits = [tokenHit('h1', { why: 'broad' }), { ...tokenHit('h2'), resourceName: '<script>"&\'\u0007' }];
  low.state.hits = [tokenHit('l1')];
  await runChecks(ctx, { rules: [high.rule, low.rule] });
  low.state.hits = [];
  await runChecks(ctx, { rules: [high.rule, low.rule] }); // l1 resolved
});
afterAll(async () => db?.drop());

describe('findings --format ocsf', () => {
  it('one OCSF 1.3 Detection Finding per line, valid against the class schema', async () => {
    const schema = JSON.parse(readFileSync('test/fixtures/ocsf-1.3-detection-finding.schema.json', 'utf8'));
    const validate = new (Ajv as unknown as new (o: object) => import('ajv').default)({ allErrors: true, strict: false }).compile(schema);
    const lines = (await exportFindings(ctx, { status: 'all' }, 'ocsf')).split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const event = JSON.parse(line);
      expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    }
    const events = lines.map((l) => JSON.parse(l));
    const h1 = events.find((e) => e.resources[0].uid === 'token:h1');
    expect(h1).toMatchObject({ class_uid: 2004, activity_id: 1, type_uid: 200401, severity_id: 4, status_id: 1, finding_info: { types: ['fake.high'] }, unmapped: { facts: { why: 'broad' } } });
    expect(events.find((e) => e.resources[0].uid === 'token:l1')).toMatchObject({ activity_id: 3, type_uid: 200403, status_id: 4, severity_id: 2 });
    expect(events.find((e) => e.resources[0].uid === 'token:h2').resources[0].name).toBe('<script>"&\'\u0007');
  });
});

describe('findings --format junit', () => {
  it('a JUnit report a CI consumer reads: one test case per rule, failing with its open findings', async () => {
    const xml = await exportFindings(ctx, {}, 'junit');
    const report = (await parseJunit(xml)) as TestSuites;
    const suite = report.testsuite![0]!;
    const cases = Object.fromEntries(suite.testcase!.map((c) => [c.name, c]));
    expect(cases['fake.high']!.failure![0]!.message).toBe('2 open finding(s), worst high: fake.high');
    expect(cases['fake.high']!.failure![0]!.inner).toContain('high token:h1');
    expect(cases['fake.high']!.failure![0]!.inner).toContain('<script>"&\'');
    // fake.low's only finding resolved: its test case passes. Every built-in rule is a case too.
    expect(cases['fake.low']).toBeUndefined();
    expect(cases['token-no-expiry']!.failure).toBeUndefined();
    expect(suite.failures).toBe(1);
    expect(suite.tests).toBe(suite.testcase!.length);
  });

  it('a disabled rule is a skipped test case', async () => {
    const off = checkContext(db, { rules: { 'token-no-expiry': { enabled: false } } });
    const report = (await parseJunit(await exportFindings(off, {}, 'junit'))) as TestSuites;
    const c = report.testsuite![0]!.testcase!.find((t) => t.name === 'token-no-expiry')!;
    expect(c.skipped?.[0]?.message).toBe('rule disabled in config');
    expect(report.testsuite![0]!.skipped).toBe(1);
  });
});
