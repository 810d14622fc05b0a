import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRules, formatRules } from '../../src/commands/rules.js';
import { loadCustomRules } from '../../src/rules/custom.js';
import { loadRuleSet, runChecks } from '../../src/rules/engine.js';
import { checkContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let dir: string;

const FILES: Record<string, string> = {
  'good.sql': `-- id: custom.good\n-- title: Things that are bad\n-- severity: high\n-- rationale: r\n-- remediation: f\nselect 'thing:' || n as resource_key, 'thing' as resource_type, 'Thing ' || n as resource_name,\n  case when n = 2 then 'critical' end as severity, n * 10 as weight, now() as seen -- trailing comment\nfrom generate_series(1, 3) n;\n`,
  'tokens.sql': `-- id: custom.tokens\n-- title: Every token\nwith t as (select id, name from api_tokens where name <> 'it''s; fine')\nselect 'token:' || id as resource_key, 'token' as resource_type, name as resource_name from t`,
  'syntax.sql': `-- id: custom.syntax\n-- title: Broken\nselect from where;`,
  'delete.sql': `-- id: custom.delete\n-- title: Writes\ndelete from findings returning 'x' as resource_key, 'y' as resource_type`,
  'sneaky.sql': `-- id: custom.sneaky\n-- title: Writes through a CTE\nwith gone as (delete from findings returning 1) select 'x' as resource_key, 'y' as resource_type from gone`,
  'two.sql': `-- id: custom.two\n-- title: Two statements\nselect 'x' as resource_key, 'y' as resource_type; drop table findings;`,
  'nokey.sql': `-- id: custom.nokey\n-- title: Missing column\nselect 'y' as resource_type, 1 as n`,
  'noheader.sql': `select 'x' as resource_key, 'y' as resource_type`,
  'zz-dup.sql': `-- id: custom.good\n-- title: Same id again\nselect 'x' as resource_key, 'y' as resource_type`,
  'slow.sql': `-- id: custom.slow\n-- title: Too slow\nselect 'x' as resource_key, 'y' as resource_type from pg_sleep(2)`,
};

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'flarewatch-rules-'));
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
  await db.pool.query(`insert into api_tokens (id, owner_type, name, policies, raw) values ('t1', 'user', 'deploy', '[]', '{}'), ('t2', 'user', 'it''s; fine', '[]', '{}')`);
});
afterAll(async () => db?.drop());

describe('custom SQL rules', () => {
  it('rejects files without a header or with a taken id at load time; the statement is for the server to judge', () => {
    const loaded = loadCustomRules(dir);
    expect(loaded.rules.map((r) => r.id).sort()).toEqual(['custom.delete', 'custom.good', 'custom.nokey', 'custom.slow', 'custom.sneaky', 'custom.syntax', 'custom.tokens', 'custom.two']);
    const problems = Object.fromEntries(loaded.problems.map((p) => [p.file.split('/').pop(), p.error]));
    expect(problems).toEqual({
      'noheader.sql': 'missing header "-- id: <rule id>"',
      'zz-dup.sql': 'id "custom.good" is already used by another rule',
    });
  });

  it('runs the good ones like built-ins; the bad ones are reported and skipped', async () => {
    const ctx = checkContext(db, { env: { FLAREWATCH_RULES_DIR: dir }, rules: { 'custom.slow': { timeout_ms: 200 } } });
    // Only the custom rules: the built-ins are tested on their own.
    const set = loadCustomRules(ctx.config.rulesDir);
    const r = await runChecks(ctx, { rules: set.rules, loadProblems: set.problems });
    const status = Object.fromEntries(r.outcomes.map((o) => [o.ruleId, o.status]));
    expect(status).toMatchObject({
      'custom.good': 'succeeded',
      'custom.tokens': 'succeeded',
      'custom.syntax': 'failed',
      'custom.sneaky': 'failed',
      'custom.nokey': 'failed',
      'custom.slow': 'failed',
      'custom.delete': 'failed',
      'custom.two': 'failed',
      'custom:noheader': 'failed',
    });
    const reason = (id: string) => r.outcomes.find((o) => o.ruleId === id)!.reason;
    expect(reason('custom.syntax')).toMatch(/syntax error/);
    expect(reason('custom.sneaky')).toMatch(/must not contain data-modifying statements in WITH|read-only transaction/);
    expect(reason('custom.nokey')).toBe('the query returns no "resource_key" column (it returns: resource_type, n)');
    expect(reason('custom.slow')).toMatch(/statement timeout/);
    expect(reason('custom.delete')).toMatch(/syntax error at or near "delete"/);
    expect(reason('custom.two')).toMatch(/cannot insert multiple commands into a prepared statement/);
    expect((await db.pool.query(`select to_regclass('findings') is not null as kept`)).rows[0].kept).toBe(true);

    const rows = (await db.pool.query(`select rule_id, resource_key, resource_name, severity, facts from findings order by rule_id, resource_key`)).rows;
    const good = rows.filter((x) => x.rule_id === 'custom.good');
    expect(good.map((x) => [x.resource_key, x.severity, x.facts.weight])).toEqual([['thing:1', 'high', 10], ['thing:2', 'critical', 20], ['thing:3', 'high', 30]]);
    expect(Object.keys(good[0].facts).sort()).toEqual(['seen', 'weight']);
    expect(rows.filter((x) => x.rule_id === 'custom.tokens').map((x) => x.resource_name)).toEqual(['deploy']);
    const [run] = (await db.pool.query(`select rules_failed, errors from check_runs`)).rows;
    expect(run.rules_failed).toBe(8);
    expect(run.errors.map((e: { rule: string }) => e.rule)).toContain('custom.sneaky');
  });

  it('leaves the connection it used clean: read-only and the timeout end with the transaction', async () => {
    const { rows } = await db.pool.query(`show transaction_read_only`);
    expect(rows[0].transaction_read_only).toBe('off');
    const t = await db.pool.query(`show statement_timeout`);
    expect(t.rows[0].statement_timeout).toBe('0');
  });

  it('the example rule loads and runs against the review views', async () => {
    const loaded = loadCustomRules(join(process.cwd(), 'rules/examples'));
    expect(loaded.problems).toEqual([]);
    const ctx = checkContext(db);
    const r = await runChecks(ctx, { rules: loaded.rules });
    expect(r.outcomes[0]).toMatchObject({ ruleId: 'custom.user-token-all-accounts', status: 'succeeded' });
  });

  it('`rules` lists built-in and custom rules with thresholds at their effective values', () => {
    const ctx = checkContext(db, { env: { FLAREWATCH_RULES_DIR: dir }, rules: { 'custom.good': { timeout_ms: 5000, severity: 'low' } } });
    const listing = listRules(loadRuleSet(ctx.config), ctx.config);
    const good = listing.rules.find((x) => x.id === 'custom.good')!;
    expect(good).toMatchObject({ severity: 'low', defaultSeverity: 'high', enabled: true, rationale: 'r', remediation: 'f' });
    expect(good.source).toMatch(/good\.sql$/);
    expect(good.thresholds).toEqual([{ name: 'timeout_ms', description: 'statement timeout of the query (ms)', default: 30000, value: 5000 }]);
    const text = formatRules(listing);
    expect(text).toContain('custom.good — Things that are bad');
    expect(text).toContain('timeout_ms = 5000 (default 30000)');
    expect(text).toContain('low (default high)');
    expect(text).toMatch(/could not be loaded:[\s\S]*noheader\.sql/);
  });
});

describe('hostile custom SQL rules (test/fixtures/rules-hostile) stay confined', () => {
  const hostile = join(process.cwd(), 'test/fixtures/rules-hostile');
  const load = (...names: string[]) => loadCustomRules(hostile).rules.filter((r) => names.some((n) => (r as { source?: string }).source?.endsWith(`/${n}.sql`)));
  const good = () => loadCustomRules(dir).rules.filter((r) => r.id === 'custom.good');

  it('statements smuggled behind ä$a$ or äE\'…\' never run: the server refuses a second statement', async () => {
    const ctx = checkContext(db);
    // Written against the old wrapping subquery (closing it with ") q;") and as sent today.
    const r = await runChecks(ctx, { rules: load('dollar-smuggle', 'e-string-smuggle', 'dollar-smuggle-bare', 'e-string-smuggle-bare') });
    expect(r.outcomes).toHaveLength(4);
    for (const o of r.outcomes) expect(o.status).toBe('failed');
    const left = await db.pool.query(`select
      (select count(*)::int from pg_db_role_setting where setconfig::text ~ '77kB|lock_timeout=7s') as settings,
      (select count(*)::int from pg_class where relname like 'smuggled_%') as tables`);
    expect(left.rows[0]).toEqual({ settings: 0, tables: 0 });
    const reason = (id: string) => r.outcomes.find((o) => o.ruleId === id)?.reason;
    expect(reason('hostile.dollar-smuggle-bare')).toBe('cannot insert multiple commands into a prepared statement');
    expect(reason('hostile.e-string-smuggle-bare')).toBe('cannot insert multiple commands into a prepared statement');
  });

  it('a statement past the rule timeout is cancelled by the server, also in a later batch after the rule turned its own timeout off', async () => {
    const ctx = checkContext(db, { rules: { 'hostile.sleep': { timeout_ms: 300 }, 'hostile.timeout-reset': { timeout_ms: 1500 } } });
    const r = await runChecks(ctx, { rules: load('sleep', 'timeout-reset') });
    for (const o of r.outcomes) expect(o).toMatchObject({ status: 'failed', reason: 'canceling statement due to statement timeout' });
  });

  it('a rule returning more rows or bytes than the bounds fails alone; the others run and the check run ends', async () => {
    const ctx = checkContext(db, { env: { FLAREWATCH_CUSTOM_SQL_MAX_ROWS: '1000', FLAREWATCH_CUSTOM_SQL_MAX_BYTES: '4000000' } });
    const r = await runChecks(ctx, { rules: [...load('many-rows', 'big-rows'), ...good()] });
    const by = Object.fromEntries(r.outcomes.map((o) => [o.ruleId, o]));
    expect(by['hostile.many-rows']).toMatchObject({ status: 'failed', reason: 'the query returns more than 1000 rows (customSql.maxRows); narrow it down or raise the bound' });
    expect(by['hostile.big-rows']).toMatchObject({ status: 'failed', reason: 'the query returns more than 4000000 bytes (customSql.maxBytes); narrow it down or raise the bound' });
    expect(by['custom.good']).toMatchObject({ status: 'succeeded', hits: 3 });
    const run = (await db.pool.query(`select status, finished_at, rules_failed from check_runs where id = $1`, [r.checkRunId])).rows[0];
    expect(run).toMatchObject({ status: 'failed', rules_failed: 2 });
    expect(run.finished_at).not.toBeNull();
  });

  it('the bounds have defaults: 100000 rows, 64 MiB', () => {
    expect(checkContext(db).config.customSql).toMatchObject({ maxRows: 100_000, maxBytes: 64 * 1024 * 1024 });
  });
});
