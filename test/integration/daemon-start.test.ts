import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { childEnv } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-start tests');

// `flarewatch start` with no REDIS_URL: it runs redis-server from the PATH on a private port, with its data
// under FLAREWATCH_DATA_DIR, and takes it down again on SIGTERM.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let db: TestDatabase;
let sim: Simulator;
let dataDir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  sim = await startSimulator({ seed: 41, size: { accounts: 1, accountAuditEntries: 100, accountAuditV1Entries: 20, userAuditEntries: 20, auditDays: 3 }, rateLimit: false });
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'flarewatch-start-'));
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await sim?.close();
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Pids of running redis-server processes serving `port` (read from /proc). */
function redisServersOn(port: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      // redis-server retitles itself "redis-server 127.0.0.1:<port>"; a zombie has an empty cmdline (gone).
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (/redis-server/.test(cmdline) && (cmdline.includes(`:${port} `) || cmdline.trimEnd().endsWith(`:${port}`) || cmdline.includes(`--port ${port} `))) {
      pids.push(Number(entry));
    }
  }
  return pids;
}

const accepts = (port: number) =>
  new Promise<boolean>((ok) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); ok(true); });
    s.once('error', () => ok(false));
  });

describe.runIf(REDIS)('flarewatch start without REDIS_URL', () => {
  it('runs its own redis-server, becomes ready, and on SIGTERM exits 0 with that redis-server gone', async () => {
    const opsPort = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'start', '--concurrency', '2'], {
      cwd: ROOT,
      env: childEnv({
        DATABASE_URL: db.url,
        CLOUDFLARE_BASE_URL: sim.url,
        CLOUDFLARE_API_TOKEN: sim.credentials.apiToken,
        FLAREWATCH_DATA_DIR: dataDir,
        FLAREWATCH_HTTP_PORT: String(opsPort),
        FLAREWATCH_AUDIT_LAG: '0s',
        FLAREWATCH_SHUTDOWN_TIMEOUT: '10s',
        FLAREWATCH_LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += String(d)));
    child.stderr!.on('data', (d) => (out += String(d)));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child!.on('exit', (code, signal) => ok({ code, signal })));

    // Ready: Postgres and its own Redis answer.
    const readyBy = Date.now() + 45_000;
    for (;;) {
      const status = (await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => undefined))?.status;
      if (status === 200) break;
      if (child.exitCode !== null || Date.now() > readyBy) throw new Error(`start never became ready:\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const redisPort = Number(/"redis":"127\.0\.0\.1:(\d+)"/.exec(out)?.[1]);
    expect(redisPort, out.slice(-2000)).toBeGreaterThan(0);
    expect(redisServersOn(redisPort)).toHaveLength(1);
    expect(await accepts(redisPort)).toBe(true);
    // Its data folder, inside the data dir (append-only: queues survive a restart of `start`).
    expect(existsSync(join(dataDir, 'redis'))).toBe(true);

    // Let the first round (enqueued at start) get going, then stop.
    const walking = Date.now() + 20_000;
    while (!/"job started"/.test(out) && Date.now() < walking) await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const bound = new Promise<'timeout'>((ok) => setTimeout(() => ok('timeout'), 30_000).unref());
    const ended = await Promise.race([exited, bound]);
    if (ended === 'timeout' || ended.code !== 0) console.log(out.split('\n').slice(-12).join('\n'));
    expect(ended).toEqual({ code: 0, signal: null });
    console.log(`start: SIGTERM to exit ${Date.now() - t0} ms`);

    // The private redis-server went with it.
    expect(redisServersOn(redisPort)).toEqual([]);
    expect(await accepts(redisPort)).toBe(false);
    expect(out).toMatch(/"msg":"stopped"/);
  });
});
