import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from '../../src/commands/check.js';
import { findingsCommand } from '../../src/commands/findings.js';
import { addSuppression, suppressCommand } from '../../src/commands/suppress.js';
import { checkContext, fakeRule, tokenHit, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const exec = promisify(execFile);
let db: TestDatabase;
let ctx: CheckTestContext;
const high = fakeRule('fake.high', { severity: 'high' });
const low = fakeRule('fake.low', { severity: 'low' });
const failing = fakeRule('fake.failing');

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = checkContext(db);
  high.state.hits = [tokenHit('h1', { why: 'broad' })];
  low.state.hits = [tokenHit('l1', { note: '=cmd|evil' }), tokenHit('l2')];
  failing.state.throws = 'kaput';
});
afterAll(async () => db?.drop());

describe('flarewatch check --fail-on', () => {
  it('exits 3 when an open, unsuppressed finding is at or above the threshold', async () => {
    const r = await checkCommand(ctx, { rules: [high.rule, low.rule], failOn: 'high' });
    expect([r.exitCode, r.blocking]).toEqual([3, 1]);
    expect(r.output).toMatch(/^rule\s+status\s+open\s+by severity\s+new\s+resolved/);
    expect(r.output).toMatch(/fake\.high\s+ok\s+1\s+1 high\s+1\s+0/);
    expect(r.output).toMatch(/fake\.low\s+ok\s+2\s+2 low\s+2\s+0/);
    expect((await checkCommand(ctx, { rules: [high.rule, low.rule], failOn: 'low' })).blocking).toBe(3);
  });

  it('exits 0 when nothing reaches the threshold, or without --fail-on', async () => {
    expect((await checkCommand(ctx, { rules: [high.rule, low.rule], failOn: 'critical' })).exitCode).toBe(0);
    expect((await checkCommand(ctx, { rules: [high.rule, low.rule] })).exitCode).toBe(0);
  });

  it('does not count suppressed findings, nor findings of disabled rules', async () => {
    await addSuppression(ctx, { ruleId: 'fake.high', resourcePattern: 'token:*', reason: 'accepted' });
    expect((await checkCommand(ctx, { rules: [high.rule, low.rule], failOn: 'high' })).exitCode).toBe(0);
    const noLow = checkContext(db, { rules: { 'fake.low': { enabled: false } } });
    const inactive = await checkCommand(noLow, { rules: [high.rule, low.rule], failOn: 'low' });
    expect(inactive.exitCode).toBe(0);
    // A disabled rule reads `inactive`, not `ok`; its two findings are resolved (reason: rule disabled), none left open.
    expect(inactive.output).toMatch(/fake\.low\s+inactive\s+0\s/);
    expect(inactive.output).toMatch(/rules disabled or removed:\n {2}fake\.low: 2 finding\(s\) resolved \(rule disabled/);
  });

  it('exits 1 when a rule failed and nothing reached the threshold', async () => {
    const r = await checkCommand(ctx, { rules: [high.rule, low.rule, failing.rule], failOn: 'critical' });
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('✗ fake.failing: kaput');
  });

  it('--json gives the same summary as data', async () => {
    const r = await checkCommand(ctx, { rules: [high.rule, low.rule], failOn: 'low', json: true });
    const out = JSON.parse(r.output);
    expect(out).toMatchObject({ ok: true, failOn: 'low', blocking: 2 });
    expect(out.rules.map((x: { ruleId: string; open: number; suppressed: number }) => [x.ruleId, x.open, x.suppressed])).toEqual([['fake.high', 0, 1], ['fake.low', 2, 0]]);
  });
});

describe('flarewatch findings', () => {
  it('filters by severity, rule and status, as a table, JSON or CSV', async () => {
    const table = await findingsCommand(ctx, {}, 'table');
    expect(table.split('\n')[0]).toMatch(/^state findings: true now, resolved when fixed \(3\)$/);
    expect(table.split('\n')[1]).toMatch(/^id\s+severity\s+status\s+rule\s+resource/);
    expect(table).toMatch(/\d+\s+high\s+open \(suppressed\)\s+fake\.high\s+token:h1/);
    expect(table).not.toMatch(/detections/);
    const json = JSON.parse(await findingsCommand(ctx, { severity: 'high' }, 'json'));
    expect(json.map((f: { resource_key: string }) => f.resource_key)).toEqual(['token:h1']);
    expect(json[0]).toMatchObject({ rule_id: 'fake.high', severity: 'high', status: 'open', suppressed: true, facts: { why: 'broad' } });
    const csv = (await findingsCommand(ctx, { ruleId: 'fake.low' }, 'csv')).split('\r\n');
    expect(csv[0]).toBe('id,severity,status,suppressed,rule_id,resource_type,resource_key,resource_name,account_id,title,first_seen_at,last_seen_at,resolved_at,facts,kind,last_event_at,resolution_reason,resolved_by,resolution_note,controls');
    expect(csv).toHaveLength(3);
    expect(csv[1]).toContain(`"{""note"":""=cmd|evil""}"`);
    expect(await findingsCommand(ctx, { status: 'resolved' }, 'table')).toBe('no findings');
  });
});

describe('flarewatch suppress', () => {
  it('adds (with reason, who, expiry), lists and removes; refuses without a reason', async () => {
    const added = await suppressCommand(ctx, 'fake.low', 'token:l*', { reason: 'known', by: 'bob', expires: '7d' });
    expect(added.output).toMatch(/^suppression (\d+) added: fake\.low token:l\* until /);
    const id = Number(/suppression (\d+)/.exec(added.output)![1]);
    expect((await suppressCommand(ctx, undefined, undefined, { list: true })).output).toMatch(new RegExp(`${id}\\s+fake\\.low\\s+token:l\\*\\s+active`));
    await expect(suppressCommand(ctx, 'fake.low', 'token:x', {})).rejects.toThrow(/--reason/);
    await expect(suppressCommand(ctx, 'fake.low', undefined, { reason: 'x' })).rejects.toThrow(/resource pattern/);
    await expect(suppressCommand(ctx, 'fake.low', 'x', { reason: 'x', expires: 'someday' })).rejects.toThrow(/--expires/);
    expect(await suppressCommand(ctx, undefined, undefined, { remove: id })).toEqual({ output: expect.stringContaining('removed'), exitCode: 0 });
    expect((await suppressCommand(ctx, undefined, undefined, { remove: id })).exitCode).toBe(1);
  });
});

describe('the CLI process', () => {
  it('`check --fail-on high` exits 3 with a high finding, `findings --json` prints it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flarewatch-cli-rules-'));
    writeFileSync(join(dir, 'high.sql'), `-- id: cli.high\n-- title: Always one\n-- severity: high\nselect 'thing:1' as resource_key, 'thing' as resource_type`);
    const env = { ...process.env, DATABASE_URL: db.url, FLAREWATCH_RULES_DIR: dir, LOG_LEVEL: 'silent', FLAREWATCH_CONFIG: '' };
    const cli = (args: string[]) => exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, cwd: process.cwd() });
    const failed = await cli(['check', '--fail-on', 'high']).then(() => undefined, (e: { code: number; stdout: string }) => e);
    expect(failed?.code).toBe(3);
    expect(failed?.stdout).toMatch(/cli\.high\s+ok\s+1\s+1 high\s+1\s+0/);
    const { stdout } = await cli(['findings', '--rule', 'cli.high', '--json']);
    expect(JSON.parse(stdout)).toMatchObject([{ rule_id: 'cli.high', resource_key: 'thing:1', title: 'Always one' }]);
    const bad = await cli(['check', '--fail-on', 'severe']).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(bad?.code).toBe(2);
    expect(bad?.stderr).toMatch(/one of info, low, medium, high, critical/);
  });
});
