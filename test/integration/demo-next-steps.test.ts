import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

describe('npm run demo', () => {
  it('ends with commands that work when pasted, on the data it stored', { timeout: 900_000 }, async () => {
    // The demo's server listens on FLAREWATCH_EMBEDDED_PG_PORT + 1.
    const env = childEnv({ FLAREWATCH_DATA_DIR: join(dir, 'data'), FLAREWATCH_EMBEDDED_PG_PORT: String((await freePort()) - 1), LOG_LEVEL: 'warn' });
    const demo = await sh('npx flarewatch demo --seed 7', env);
    expect(demo.code, demo.stderr).toBe(0);
    const steps = demo.stdout.split('next, on the same data')[1]!.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('npx flarewatch'));
    expect(steps.length).toBeGreaterThanOrEqual(5);
    for (const line of steps) {
      const command = line.replace(/\s{2,}\(.*\)$/, '');
      const r = await sh(command, env);
      expect(r.code, `${command}\n${r.stderr}`).toBe(0);
      expect(r.stdout.trim().length, command).toBeGreaterThan(0);
      expect(r.stdout, command).not.toMatch(/^no findings$/m);
      if (command.includes('db start')) expect((await sh('npx flarewatch db stop --demo', env)).stdout).toMatch(/^stopped/);
    }
    // The findings it lists are the demo's, as the run above stored them.
    const csv = await sh('npx flarewatch findings --demo --csv', env);
    expect(csv.stdout.split('\n').length).toBeGreaterThan(50);
  });
});
