import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingsCommand } from '../../src/commands/findings.js';
import { formatRules, listRules } from '../../src/commands/rules.js';
import { loadRuleSet } from '../../src/rules/engine.js';
import { checkContext, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// Control references end to end: `rules`, findings JSON/CSV, and `findings --control` through the CLI process.

const exec = promisify(execFile);
let db: TestDatabase;
let ctx: CheckTestContext;
let cli: (args: string[]) => Promise<{ stdout: string; stderr: string; code: number }>;

beforeAll(async () => {
  db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'flarewatch-controls-'));
  writeFileSync(join(dir, 'mfa.sql'), `-- id: acme.mfa\n-- title: Shared login without MFA\n-- controls: cc6.1, ACME:IAM-7\nselect 'thing:1' as resource_key, 'thing' as resource_type`);
  writeFileSync(join(dir, 'stale.sql'), `-- id: acme.stale\n-- title: Stale account\n-- controls: PCI:8.2.6\nselect 'thing:2' as resource_key, 'thing' as resource_type`);
  writeFileSync(join(dir, 'bad.sql'), `-- id: acme.bad\n-- title: Bad header\n-- controls: least privilege\nselect 'x' as resource_key, 'y' as resource_type`);
  const env = { ...process.env, DATABASE_URL: db.url, FLAREWATCH_RULES_DIR: dir, LOG_LEVEL: 'silent', FLAREWATCH_CONFIG: '' };
  cli = (args) => exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, cwd: process.cwd() })
    .then((r) => ({ ...r, code: 0 }), (e: { code: number; stdout: string; stderr: string }) => e);
  await cli(['check']);
  ctx = checkContext(db, { env: { FLAREWATCH_RULES_DIR: dir } });
});
afterAll(async () => db?.drop());

describe('control references', () => {
  it('`rules` shows every rule\'s controls; a custom rule\'s header adds its own; a bad one is a load problem', async () => {
    const listing = listRules(loadRuleSet(ctx.config), ctx.config);
    const byId = Object.fromEntries(listing.rules.map((r: { id: string; controls: string[] }) => [r.id, r.controls]));
    expect(byId['acme.mfa']).toEqual(['SOC2:CC6.1', 'ACME:IAM-7']);
    expect(byId['member-no-2fa']).toEqual(['SOC2:CC6.1', 'ISO27001:A.8.5', 'PCI:8.4.2']);
    expect(listing.problems).toMatchObject([{ error: expect.stringContaining('bad control "least privilege"') }]);
    expect(formatRules(listing)).toContain('  controls: SOC 2 CC6.1 · ISO/IEC 27001:2022 A.8.5 · PCI DSS v4.0 8.4.2');
  });

  it('findings JSON and CSV carry the controls of their rule', async () => {
    const json = JSON.parse(await findingsCommand(ctx, {}, 'json'));
    expect(json.map((f: { rule_id: string; controls: string[] }) => [f.rule_id, f.controls])).toEqual([['acme.mfa', ['SOC2:CC6.1', 'ACME:IAM-7']], ['acme.stale', ['PCI:8.2.6']]]);
    const csv = (await findingsCommand(ctx, {}, 'csv')).split('\r\n');
    expect(csv[0]!.endsWith(',controls')).toBe(true);
    expect(csv[1]!.endsWith(',SOC2:CC6.1 ACME:IAM-7')).toBe(true);
  });

  it('`findings --control` keeps the findings of rules that support the control; an unknown control is a usage error', async () => {
    const ids = async (control: string) => JSON.parse((await cli(['findings', '--control', control, '--json'])).stdout).map((f: { rule_id: string }) => f.rule_id);
    expect(await ids('SOC2:CC6')).toEqual(['acme.mfa']);
    expect(await ids('8.2')).toEqual(['acme.stale']);
    const bad = await cli(['findings', '--control', 'CC9.9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^flarewatch: findings --control: no rule supports "CC9\.9"/);
  });
});
