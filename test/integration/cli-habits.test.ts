import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';

const ROOT = process.cwd();
let db: TestDatabase;
let env: Record<string, string>;

interface Result { code: number | null; stdout: string; stderr: string }
function cli(args: string[], extra: Record<string, string> = {}): Promise<Result> {
  return new Promise((ok) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: childEnv({ ...env, ...extra }), timeout: 240_000 }, (err, stdout, stderr) =>
      ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}
const oneLine = (r: Result) => r.stderr.trim().split('\n');

/** The CLI in this process: its exit code and what it wrote to stderr. */
async function inProcess(args: string[]): Promise<{ code: number; stderr: string }> {
  const { buildCli } = await import('../../src/cli.js');
  const { reportError } = await import('../../src/commands/cli-errors.js');
  let stderr = '';
  const program = buildCli();
  const capture = (cmd: typeof program) => {
    cmd.configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined, outputError: (s, write) => write(`flarewatch: ${s.replace(/^error: /, '')}`) });
    for (const sub of cmd.commands) capture(sub as typeof program);
  };
  capture(program);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await program.parseAsync(['node', 'flarewatch', ...args]);
    return { code: Number(process.exitCode ?? 0), stderr };
  } catch (err) {
    return { code: reportError(err, (s) => (stderr += s)), stderr };
  } finally {
    process.exitCode = 0;
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url, LOG_LEVEL: 'warn', FLAREWATCH_RULES_DIR: mkdtempSync(join(tmpdir(), 'flarewatch-habits-rules-')) };
  // Enough findings that a CSV of them is far larger than a pipe's buffer.
  await db.pool.query(`
    insert into findings (fingerprint, rule_id, resource_key, resource_type, severity, status, title, facts)
    select 'fp' || n, 'token-no-expiry', 'token:' || n, 'token', 'medium', 'open', 'A token that never expires, number ' || n || repeat(' padding', 20), '{}'
    from generate_series(1, 3000) n`);
  await db.pool.query(`insert into finding_events (finding_id, transition, at) select id, 'opened', now() - interval '1 day' from findings where resource_key = 'token:7'`);
  await db.pool.query(`insert into sync_state (stream, checkpoint, last_success_at, last_error_at, last_error) values
    ('accounts:default', '{}', now() - interval '5 minutes', null, null)`);
});
afterAll(async () => db?.drop());

describe('CLI habits', () => {
  it('--version prints the package version', async () => {
    const r = await cli(['--version']);
    expect([r.code, r.stdout.trim()]).toEqual([0, JSON.parse((await import('node:fs')).readFileSync('package.json', 'utf8')).version]);
  });

  it('usage errors exit 2 with one line, in every command', async () => {
    // In process (each spawn costs seconds here); one spawned case below checks the real exit code.
    const cases = [
      ['check', '--fail-on', 'hi'], ['findings', '--status', 'closed'], ['findings', '--json', '--csv'], ['findings', '--format', 'xml'],
      ['suppress', '--list', '--remove', '1'], ['status', '--max-lag', 'soon'], ['simulator', '--port', 'x'], ['nosuch'], ['sync', 'memberz'],
      ['findings', 'show', 'abc'], ['run', '--demo'], ['db', 'restart'], ['alerts', 'test'],
    ];
    for (const args of cases) {
      const r = await inProcess(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^flarewatch: /);
    }
    const spawned = await cli(['check', '--fail-on', 'hi']);
    expect([spawned.code, oneLine(spawned)]).toEqual([2, ["flarewatch: option '--fail-on <severity>' argument 'hi' is invalid. one of info, low, medium, high, critical"]]);
  });

  it('piping into head ends quietly', async () => {
    const r = await new Promise<Result>((ok) => {
      const child = spawn('bash', ['-c', `set -o pipefail; "${process.execPath}" --import tsx src/cli.ts findings --csv | head -3`], { cwd: ROOT, env: childEnv(env) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.on('exit', (code) => ok({ code, stdout, stderr }));
    });
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('findings --rule with an unknown rule says so (with a suggestion); suppress refuses one too', async () => {
    const r = await cli(['findings', '--rule', 'token-no-expiryy']);
    expect([r.code, r.stderr.trim()]).toEqual([2, 'flarewatch: findings --rule: unknown rule "token-no-expiryy" (did you mean "token-no-expiry"?); npx flarewatch rules lists them']);
    const s = await cli(['suppress', 'token-no-expiri', 'token:*', '--reason', 'x']);
    expect([s.code, s.stderr.trim()]).toEqual([2, 'flarewatch: suppress: unknown rule "token-no-expiri" (did you mean "token-no-expiry"?); npx flarewatch rules lists them']);
    expect((await db.pool.query('select count(*)::int as n from suppressions')).rows[0].n).toBe(0);
  });

  it('a misspelt rule id under rules: stops the start, so the rule meant to be disabled cannot keep running', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flarewatch-habits-')), 'c.yaml');
    writeFileSync(file, 'rules:\n  token-no-expirry:\n    enabled: false\n');
    const r = await cli(['check'], { FLAREWATCH_CONFIG: file });
    expect([r.code, r.stderr.trim()]).toEqual([2, 'flarewatch: invalid configuration:\n  rules.token-no-expirry: unknown rule (did you mean "token-no-expiry"?) (see npx flarewatch rules)']);
  });

  it('findings show <id> prints one finding with its facts and history; not found is one line on stderr, exit 4', { timeout: 600_000 }, async () => {
    const id = (await db.pool.query(`select id from findings where resource_key = 'token:7'`)).rows[0].id;
    const r = await cli(['findings', 'show', String(id)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^finding ${id}: A token that never expires, number 7`));
    expect(r.stdout).toMatch(/rule:\s+token-no-expiry/);
    expect(r.stdout).toMatch(/history:\n {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}opened/);
    // Not found: one line on stderr, exit 4, the same in every command.
    const [missing, noReview, noToken] = await Promise.all([cli(['findings', 'show', '999999']), cli(['review', 'status', '99999']), cli(['history', 'token', 'no-such-token'])]);
    expect([missing.code, missing.stdout, missing.stderr.trim()]).toEqual([4, '', 'flarewatch: findings show: no finding 999999 (npx flarewatch findings lists them)']);
    expect([noReview.code, noReview.stdout, noReview.stderr.trim()]).toEqual([4, '', 'flarewatch: review status: no review 99999 (npx flarewatch review list shows them)']);
    expect([noToken.code, noToken.stdout, noToken.stderr.trim()]).toEqual([4, '', 'flarewatch: history token: no token with id or name "no-such-token"']);
  });

  it('status --json, and a non-zero exit when a stream is failing or lagging', async () => {
    const healthy = await cli(['status', '--json']);
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(JSON.parse(healthy.stdout)).toMatchObject({ ok: true, problems: [], streams: [{ stream: 'accounts:default', failing: false }] });
    const lagging = await cli(['status', '--max-lag', '1m']);
    expect(lagging.code).toBe(1);
    expect(lagging.stdout).toMatch(/1 need attention: accounts:default \(lagging \d+m\d+s\)/);
  });

  it('expected failures are one line: no Redis, an unreachable or malformed DATABASE_URL, the simulator', async () => {
    const port = await freePort();
    const busy: Server = createServer();
    await new Promise<void>((ok) => busy.listen(port, '127.0.0.1', ok));
    try {
      const [worker, refused, notUrl, options, inUse] = await Promise.all([
        cli(['worker'], { REDIS_URL: '' }),
        cli(['findings'], { DATABASE_URL: `postgres://u:pw-secret-123@127.0.0.1:${port}/x` }),
        cli(['findings'], { DATABASE_URL: 'not a url' }),
        cli(['simulator', '--options', '{"size":{"accounts":0}}']),
        cli(['simulator', '--port', String(port)]),
      ]);
      expect([worker.code, oneLine(worker)]).toEqual([1, [expect.stringMatching(/^flarewatch: no Redis: set REDIS_URL/)]]);
      // The busy port speaks no PostgreSQL: the connection fails, named by the setting and the host, never the password.
      expect(refused.code).toBe(1);
      expect(oneLine(refused)).toEqual([expect.stringMatching(new RegExp(`^flarewatch: DATABASE_URL: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/x: `))]);
      expect(refused.stderr).not.toContain('pw-secret-123');
      expect([notUrl.code, notUrl.stderr.trim()]).toEqual([2, 'flarewatch: invalid configuration:\n  DATABASE_URL (database.url): not a postgres URL (expected postgres://user:password@host:5432/database)']);
      expect([options.code, options.stderr.trim()]).toEqual([2, 'flarewatch: simulator: --options size.accounts: must be at least 1']);
      expect([inUse.code, inUse.stderr.trim()]).toEqual([1, `flarewatch: simulator: port ${port} on 127.0.0.1 is in use: choose another with --port (0 picks a free one)`]);
    } finally {
      busy.close();
    }
  });

  it('stack traces only at LOG_LEVEL=debug', async () => {
    const quiet = await cli(['worker'], { REDIS_URL: '' });
    expect(quiet.stderr).not.toMatch(/\n\s+at /);
    const debug = await cli(['worker'], { REDIS_URL: '', LOG_LEVEL: 'debug' });
    expect(debug.stderr).toMatch(/Error: no Redis[\s\S]*\n\s+at workerCommand/);
  });
});
