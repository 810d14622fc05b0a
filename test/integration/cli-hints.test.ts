import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../../src/commands/run.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { childEnv } from '../helpers/daemon.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// The hints commands print after the quick start (review start's next: lines, fix plan's, the
// suppress hint of findings ack), pasted into bash as printed: each runs. The demo's own are
// pasted by demo-next-steps.test.ts.
let db: TestDatabase;
let sim: Simulator;
let env: NodeJS.ProcessEnv;
const dir = mkdtempSync(join(tmpdir(), 'flarewatch-hints-'));

beforeAll(async () => {
  sim = await startSimulator({ seed: 42, size: { accounts: 1, accountAuditEntries: 20, accountAuditV1Entries: 5, userAuditEntries: 5, auditDays: 1 }, rateLimit: false });
  db = await createTestDatabase();
  expect((await runOnce(testContext(db, sim), { checks: true })).ok).toBe(true);
  env = childEnv({ DATABASE_URL: db.url, LOG_LEVEL: 'warn', CLOUDFLARE_BASE_URL: sim.url, CLOUDFLARE_API_TOKEN: sim.credentials.apiToken });
}, 600_000);

afterAll(async () => {
  await sim?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

function sh(command: string, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile('bash', ['-c', command], { cwd: process.cwd(), env: { ...env, ...extra }, timeout: 300_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** The indented lines after `marker`: each a command or a '#' comment, to paste as it is. */
const hintLines = (text: string, marker: string) =>
  (text.split(marker)[1] ?? '').split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim());

async function pasteAll(lines: string[], extra: NodeJS.ProcessEnv = {}) {
  expect(lines.filter((l) => !l.startsWith('npx flarewatch ') && !l.startsWith('# '))).toEqual([]);
  for (const line of lines) {
    const r = await sh(line, extra);
    expect(r.code, `${line}\n${r.stderr}`).toBe(0);
  }
}

describe('printed hints paste and run', () => {
  it("review start's next: lines", { timeout: 600_000 }, async () => {
    const start = await sh('npx flarewatch review start --by auditor');
    expect(start.code, start.stderr).toBe(0);
    const next = hintLines(start.stdout, 'next:');
    expect(next[0]).toMatch(/^npx flarewatch review status \d+$/);
    await pasteAll(next);
  });

  it("findings ack on a state finding: the suppress command it suggests", { timeout: 600_000 }, async () => {
    const { rows } = await db.pool.query(`select id from findings where kind = 'state' and status = 'open' order by id limit 1`);
    const ack = await sh(`npx flarewatch findings ack ${rows[0].id} --by auditor`);
    expect(ack.code).toBe(1);
    const suggested = /(npx flarewatch suppress .*--reason "…")/.exec(ack.stdout + ack.stderr)?.[1];
    expect(suggested, ack.stdout + ack.stderr).toBeDefined();
    const r = await sh(suggested!);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^suppression \d+ added/);
  });

  it("fix plan's next: lines", { timeout: 600_000 }, async () => {
    // Plans need a credential marked for writes (a config file, as the README shows).
    const config = join(dir, 'flarewatch.json');
    writeFileSync(config, JSON.stringify({ cloudflare: { credentials: [{ name: 'writer', apiToken: sim.credentials.apiToken, write: true }] } }));
    const writer = { FLAREWATCH_CONFIG: config, CLOUDFLARE_API_TOKEN: '' };
    const plan = await sh('npx flarewatch fix plan --rule token-no-expiry --by planner', writer);
    expect(plan.code, plan.stderr).toBe(0);
    const next = hintLines(plan.stdout, 'next:');
    expect(next[0]).toMatch(/^npx flarewatch fix show \d+$/);
    await pasteAll(next, writer);
  });
});
