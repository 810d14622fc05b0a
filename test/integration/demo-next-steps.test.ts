import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { childEnv } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'flarewatch-demo-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(command: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile('bash', ['-c', command], { cwd: process.cwd(), env, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** The lines a command prints as hints: everything after `marker`, indented, each to be pasted as it is. */
const hintLines = (stdout: string, marker: string) =>
  (stdout.split(marker)[1] ?? '').split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim());

/** What a second demo must not move: every token's expiry, and the audit entries on each token. */
async function demoState(dataDir: string, port: number) {
  const server = await startEmbeddedPostgres(join(dataDir, 'demo'), port);
  const pool = new pg.Pool({ connectionString: server.url, max: 1 });
  try {
    const tokens = (await pool.query(`select id, status, expires_on::text from api_tokens where deleted_at is null order by id`)).rows;
    const audit = (await pool.query(`select count(*)::int as n, count(distinct id)::int as ids from audit_logs`)).rows[0];
    return { tokens, audit };
  } finally {
    await pool.end();
    await server.stop();
  }
}

describe('npm run demo', () => {
  it('ends with commands that work when pasted as printed, comments and all; a second demo moves nothing', { timeout: 1_500_000 }, async () => {
    // The demo's server listens on FLAREWATCH_EMBEDDED_PG_PORT + 1.
    const port = await freePort();
    const dataDir = join(dir, 'data');
    const env = childEnv({ FLAREWATCH_DATA_DIR: dataDir, FLAREWATCH_EMBEDDED_PG_PORT: String(port - 1), LOG_LEVEL: 'warn' });
    const demo = await sh('npx flarewatch demo', env);
    expect(demo.code, demo.stderr).toBe(0);
    const first = await demoState(dataDir, port);
    const steps = hintLines(demo.stdout, 'next, on the same data');
    expect(steps.filter((l) => l.startsWith('npx flarewatch')).length).toBeGreaterThanOrEqual(6);
    // Every printed line is either a command or a '#' comment: nothing a shell would choke on.
    expect(steps.filter((l) => !l.startsWith('npx flarewatch ') && !l.startsWith('# '))).toEqual([]);
    const printedByHints: string[] = [];
    for (const line of steps) {
      const r = await sh(line, env);
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      if (line.startsWith('#')) continue;
      expect(r.stdout.trim().length, line).toBeGreaterThan(0);
      expect(r.stdout, line).not.toMatch(/^no findings$/m);
      if (line.includes('db start')) printedByHints.push(...hintLines(r.stdout, 'started:'));
    }
    // db start's own hints (psql on the running server, then how to stop it) paste as printed too.
    expect(printedByHints.at(-1)).toBe('npx flarewatch db stop --demo');
    for (const line of printedByHints) {
      const r = await sh(line.includes('psql') ? `${line} -c 'select 1'` : line, env);
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      if (line.endsWith('db stop --demo')) expect(r.stdout).toMatch(/^stopped/);
    }

    // The same world again: no token expiry moves, no audit entry is added.
    const again = await sh('npx flarewatch demo', env);
    expect(again.code, again.stderr).toBe(0);
    const second = await demoState(dataDir, port);
    expect(second.tokens).toEqual(first.tokens);
    expect(second.audit).toEqual(first.audit);
    expect(again.stdout.split('stored in PostgreSQL')[1]).toBe(demo.stdout.split('stored in PostgreSQL')[1]);
  });
});
