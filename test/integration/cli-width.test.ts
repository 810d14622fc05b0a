import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../../src/commands/run.js';
import { addSuppression } from '../../src/commands/suppress.js';
import { startReview } from '../../src/review/start.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { displayWidth } from '../../src/util/text-width.js';
import { childEnv } from '../helpers/daemon.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// Every table-printing command against a synced world: fitted to --width (as on a terminal), in
// full when piped or with --wide, and JSON untouched by either.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REASON = `accepted while the vendor migrates ${'and then some more words '.repeat(6)}END-OF-REASON`;
let db: TestDatabase;
let sim: Simulator;
let token: { id: string; name: string };
let email: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 42, size: { accounts: 1, accountAuditEntries: 40, accountAuditV1Entries: 5, userAuditEntries: 5, auditDays: 2 }, rateLimit: false });
  db = await createTestDatabase();
  const ctx = testContext(db, sim);
  const result = await runOnce(ctx, { checks: true });
  expect(result.ok).toBe(true);
  await startReview(ctx, { by: 'auditor' });
  await addSuppression(ctx, { ruleId: 'token-no-expiry', resourcePattern: 'token:*', reason: REASON, createdBy: 'alice' });
  // The token with the most history, and a member with one.
  [token] = (await db.pool.query(`select t.id, t.name from api_tokens t join api_token_versions v on v.token_id = t.id group by t.id, t.name order by count(*) desc, t.id limit 1`)).rows;
  email = (await db.pool.query(`select email from account_members where email is not null order by email limit 1`)).rows[0].email;
}, 600_000);

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, ['bin/flarewatch.mjs', ...args], { cwd: ROOT, env: childEnv({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' }), timeout: 240_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

const widest = (text: string) => Math.max(...text.split('\n').map(displayWidth));
const commands = () => [
  ['findings'], ['history', 'token', token.id], ['history', 'member', email], ['status'],
  ['access', 'of', email], ['review', 'status'], ['rules'], ['suppress', '--list'],
];

/** Run in batches: each is a process of its own. */
async function all<T>(items: T[], fn: (item: T) => Promise<unknown>, at = 4) {
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i += at) out.push(...(await Promise.all(items.slice(i, i + at).map(fn))));
  return out as Awaited<ReturnType<typeof fn>>[];
}

describe('tables fit the terminal', () => {
  it('with --width 80 no line of any table command is wider than 80; piped, the same commands print in full', { timeout: 900_000 }, async () => {
    const cases = commands();
    const results = (await all(cases, async (args) => ({ args, fitted: await cli(['--width', '80', ...args]), full: await cli(args) }))) as Array<{ args: string[]; fitted: Awaited<ReturnType<typeof cli>>; full: Awaited<ReturnType<typeof cli>> }>;
    for (const { args, fitted, full } of results) {
      const what = args.join(' ');
      // `status` and `check` exit 1/3 when something needs attention: the same code either way.
      expect(fitted.code, `${what}: ${fitted.stderr} / ${full.stderr}`).toBe(full.code);
      expect(fitted.stdout.length, what).toBeGreaterThan(0);
      expect(fitted.stdout.split('\n').filter((l) => displayWidth(l) > 80), what).toEqual([]);
    }
    // The wide ones really were wider: fitting them is what made them fit.
    const full = Object.fromEntries(results.map((r) => [r.args.join(' '), r.full.stdout]));
    for (const what of ['findings', `history token ${token.id}`, 'suppress --list', 'rules']) expect(widest(full[what]!), what).toBeGreaterThan(80);
    expect(full['suppress --list']).toContain('END-OF-REASON');
  });

  it('a cut cell ends with …; history wraps its changes instead; --wide prints what piping prints', { timeout: 600_000 }, async () => {
    const [fitted, wide, piped, history, historyFull] = await Promise.all([
      cli(['suppress', '--list', '--width', '80']), cli(['--wide', 'suppress', '--list']), cli(['suppress', '--list']),
      cli(['history', 'token', token.id, '--width', '80']), cli(['history', 'token', token.id]),
    ]);
    expect(fitted.stdout).not.toContain('END-OF-REASON');
    expect(fitted.stdout).toMatch(/…/);
    expect(wide.stdout).toBe(piped.stdout);
    expect(wide.stdout).toContain(REASON);
    // Wrapped, not cut: every word of the full timeline is still there.
    const words = (s: string) => s.split(/\s+/).filter((w) => !/^-+$/.test(w)).sort();
    expect(history.stdout).not.toContain('…');
    expect(words(history.stdout)).toEqual(words(historyFull.stdout));
  });

  it('JSON and CSV are never fitted', { timeout: 600_000 }, async () => {
    const [json, jsonFitted, csv, csvFitted] = await Promise.all([
      cli(['suppress', '--list', '--json']), cli(['suppress', '--list', '--json', '--width', '40']),
      cli(['findings', '--csv']), cli(['findings', '--csv', '--width', '40']),
    ]);
    expect(jsonFitted.stdout).toBe(json.stdout);
    expect(JSON.parse(json.stdout)[0].reason).toBe(REASON);
    expect(csvFitted.stdout).toBe(csv.stdout);
  });

  it('on a terminal the table takes its width; a bad --width is one usage line', { timeout: 600_000 }, async () => {
    // `script` gives the command a terminal of 80 columns.
    const tty = await new Promise<string>((ok) => execFile('script', ['-qec', `stty cols 80; "${process.execPath}" bin/flarewatch.mjs suppress --list`, '/dev/null'],
      { cwd: ROOT, env: childEnv({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' }), timeout: 240_000 }, (_err, stdout) => ok(stdout)));
    expect(tty).toContain('accepted');
    expect(tty).not.toContain('END-OF-REASON');
    expect(widest(tty.replace(/\r/g, ''))).toBeLessThanOrEqual(80);
    const bad = await cli(['--width', '5', 'findings']);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, "flarewatch: option '--width <columns>' argument '5' is invalid. a number of columns, at least 20"]);
  });
});
