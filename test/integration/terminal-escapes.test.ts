import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { childEnv } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// A Cloudflare error message written to take over the operator's terminal: it retitles the window
// (OSC 0), clears the screen (CSI 2J, also as the one-byte C1 CSI), moves back over the line to
// print a fake "all streams OK" (CR, cursor up) and plants a link (OSC 8). What run and doctor print
// must carry its words with none of its control characters.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\r\x1b[1A✓ all streams OK\x1b]8;;http://evil.example/\x1b\\click here\x1b]8;;\x1b\\\x9b2J\x07';
// ESC, C1 controls (CSI 0x9b, OSC 0x9d, ...), BEL and CR: none may reach the terminal.
const CONTROL = /[\x1b\x07\r\x80-\x9f]/;

let sim: Simulator;
let db: TestDatabase;
beforeAll(async () => {
  sim = await startSimulator({ seed: 5, size: { accounts: 1 }, rateLimit: false, faults: [{ route: '*', kind: 'error', status: 400, code: 1001, message: HOSTILE }] });
  db = await createTestDatabase();
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

async function cli(args: string[]): Promise<{ code: number | null; text: string }> {
  const env = childEnv({ LOG_LEVEL: 'info', FLAREWATCH_LOG_FORMAT: 'pretty', FLAREWATCH_MAX_RETRIES: '0',
    CLOUDFLARE_BASE_URL: sim.url, CLOUDFLARE_API_TOKEN: sim.credentials.apiToken, DATABASE_URL: db.url });
  const child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => (text += String(d)));
  child.stderr.on('data', (d) => (text += String(d)));
  const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
  return { code, text };
}

describe('escape sequences in a Cloudflare error message', () => {
  it.each([['doctor'], ['run']])('%s shows the message with its control characters escaped', async (command) => {
    const { code, text } = await cli([command]);
    expect(code).not.toBe(0);
    expect(text).toContain('all streams OK');
    expect(text).toContain('\\x1b]0;pwned\\x07');
    expect(text).not.toMatch(CONTROL);
  });
});
