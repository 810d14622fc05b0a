import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStatus, statusCommand } from '../../src/commands/status.js';
import { loadConfig } from '../../src/config.js';
import { secretKey } from '../../src/credentials/limiters.js';
import { streamLags } from '../../src/ops/metrics.js';
import { childEnv } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let db: TestDatabase;

// Four streams, one per case: healthy, failed then recovered, succeeded then failing, never succeeded.
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(`
    insert into sync_state (stream, checkpoint, last_success_at, last_error_at, last_error) values
      ('accounts', '{}', now() - interval '5 minutes', null, null),
      ('user-audit', '{"watermark":"2030-01-01T00:00:00.000Z"}', now() - interval '1 minute', now() - interval '1 hour', 'fetch failed: connect ECONNREFUSED (old)'),
      ('account-audit:abc', '{"watermark":"2030-01-01T00:00:00.000Z"}', now() - interval '1 hour', now() - interval '1 minute', 'Cloudflare 500 on /accounts/abc/logs/audit (current)'),
      ('members:abc', null, null, now() - interval '2 minutes', 'Cloudflare 403: not allowed (never succeeded)')`);
});

afterAll(async () => {
  await db?.drop();
});

const lineOf = (text: string, stream: string) => text.split('\n').find((l) => l.startsWith(`${stream} `))!;

describe('flarewatch status', () => {
  it('knows which last error is current: newer than the last success, or no success at all', async () => {
    const rows = await streamLags(db.db);
    const by = Object.fromEntries(rows.map((r) => [r.stream, r.failing]));
    expect(by).toEqual({ accounts: false, 'user-audit': false, 'account-audit:abc': true, 'members:abc': true });
  });

  it('prints a current error, and an error a later walk got past as recovered', async () => {
    const text = formatStatus(await streamLags(db.db));
    expect(lineOf(text, 'accounts')).not.toMatch(/recovered|error/i);
    expect(lineOf(text, 'user-audit')).toMatch(/recovered \(failed \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);
    expect(text).not.toContain('(old)');
    expect(lineOf(text, 'account-audit:abc')).toMatch(/\dZ Cloudflare 500 on \/accounts\/abc\/logs\/audit \(current\)$/);
    expect(lineOf(text, 'members:abc')).toMatch(/never .*Cloudflare 403: not allowed \(never succeeded\)$/);
    expect(lineOf(text, 'user-audit')).toContain('watermark 2030-01-01T00:00:00.000Z');
  });

  it('the CLI prints the same table', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'status'], {
      cwd: ROOT, env: childEnv({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' }), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
    // Two streams are failing now: the table is printed, and the exit code says so.
    expect(code, err).toBe(1);
    expect(out).toMatch(/2 need attention: account-audit:abc \(failing\), members:abc \(failing\)/);
    expect(out.split('\n')[0]).toMatch(/^stream\s+checkpoint\s+lag\s+last success\s+verified\s+last error$/);
    expect(lineOf(out, 'user-audit')).toMatch(/recovered \(failed /);
    expect(lineOf(out, 'account-audit:abc')).toContain('(current)');
    expect(out).not.toContain('(old)');
  });

  it('a credential whose secret changed since it was checked says so, instead of the old secret\'s status; never a secret shown', async () => {
    const wrong = 'wrong-token-0123456789abcdef0123456789';
    const right = 'right-token-0123456789abcdef0123456789';
    await db.pool.query(`insert into credentials (name, kind, fingerprint, status, last_verified_at, last_error) values ('default', 'user-token', $1, 'invalid', now(), 'Cloudflare 401: Invalid API Token')`, [secretKey({ apiToken: wrong })]);
    const run = async (token: string) => {
      const lines: string[] = [];
      await statusCommand(loadConfig({ DATABASE_URL: db.url, CLOUDFLARE_API_TOKEN: token, LOG_LEVEL: 'warn' }), { maxLagMs: 7_200_000 }, (s) => lines.push(s));
      return lines.join('\n');
    };
    const same = await run(wrong);
    expect(lineOf(same, 'default')).toMatch(/^default\s+user-token\s+invalid\s/);
    expect(same).toMatch(/need attention: .*credential default \(invalid\)/);
    const changed = await run(right);
    expect(lineOf(changed, 'default')).toMatch(/^default\s+user-token\s+secret changed since checked \(was invalid; the next run checks it\)/);
    expect(changed).not.toContain('credential default (invalid)');
    for (const text of [same, changed]) for (const secret of [wrong, right]) expect(text).not.toContain(secret);
  });

  it('checkpoints in words, not JSON', async () => {
    await db.pool.query(`insert into sync_state (stream, checkpoint, last_success_at) values ('user-tokens:default', '{"lastCompleteAt":"2030-01-02T03:04:05.000Z","page":3}', now())`);
    const text = formatStatus(await streamLags(db.db));
    // jsonb keeps its own key order: both parts, in words, whichever comes first.
    expect(lineOf(text, 'user-tokens:default')).toMatch(/^user-tokens:default\s+(last complete at 2030-01-02T03:04:05\.000Z, page 3|page 3, last complete at 2030-01-02T03:04:05\.000Z)\s/);
    expect(text).not.toContain('{');
  });
});
