import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { childEnv } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-private-redis tests');

// The redis-server `flarewatch start` runs for itself: killed under the daemon, it is started again;
// the daemon killed with -9, it goes too; one left over from a killed start is stopped by the next;
// and it answers nobody without its password.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let db: TestDatabase;
let sim: Simulator;
let dataDir: string;
const children: ChildProcess[] = [];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]!.startsWith('Z');
  } catch {
    return false;
  }
};
const redisPid = () => {
  try {
    return Number(readFileSync(join(dataDir, 'redis', 'redis-server.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
};

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, out?: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${out ? `:\n${out().slice(-2000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function start(opsPort: number): Promise<{ child: ChildProcess; out: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'start', '--concurrency', '1'], {
    cwd: ROOT,
    env: childEnv({
      DATABASE_URL: db.url, CLOUDFLARE_BASE_URL: sim.url, CLOUDFLARE_API_TOKEN: sim.credentials.apiToken, FLAREWATCH_DATA_DIR: dataDir,
      FLAREWATCH_HTTP_PORT: String(opsPort), FLAREWATCH_SHUTDOWN_TIMEOUT: '10s', FLAREWATCH_LOG_FORMAT: 'json', LOG_LEVEL: 'info',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  child.stdout!.on('data', (d) => (text += String(d)));
  child.stderr!.on('data', (d) => (text += String(d)));
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  return { child, out: () => text, exited };
}

/** PING over a bare socket: the server's own first answer, no client library in between. */
const rawPing = (port: number) =>
  new Promise<string>((ok, fail) => {
    const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.once('data', (d) => { ok(String(d)); s.destroy(); });
    s.once('error', fail);
  });

const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;

beforeAll(async () => {
  sim = await startSimulator({ seed: 43, size: { accounts: 1, accountAuditEntries: 10, accountAuditV1Entries: 5, userAuditEntries: 5, auditDays: 1 }, rateLimit: false });
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'flarewatch-private-redis-'));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  const pid = redisPid();
  if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  await sim?.close();
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe.runIf(REDIS)('the private redis-server of `flarewatch start`', () => {
  it('has a password; is started again when it dies; goes when the daemon is killed -9; a leftover one is stopped by the next start', async () => {
    const opsPort = await freePort();
    const first = await start(opsPort);
    await waitFor('start to be ready', () => ready(opsPort), 60_000, first.out);
    const conf = readFileSync(join(dataDir, 'redis', 'redis.conf'), 'utf8');
    const port = Number(/^port (\d+)$/m.exec(conf)![1]);
    const password = readFileSync(join(dataDir, 'redis', 'password'), 'utf8').trim();
    expect(statSync(join(dataDir, 'redis', 'password')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'redis', 'redis.conf')).mode & 0o777).toBe(0o600);

    // Nobody gets in without the password; it is in no log line and on no command line.
    expect(await rawPing(port)).toMatch(/^-NOAUTH/);
    const authed = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await authed.connect();
    expect(await authed.ping()).toBe('PONG');
    authed.disconnect();
    const pid1 = redisPid()!;
    expect(readFileSync(`/proc/${pid1}/cmdline`, 'utf8')).not.toContain(password);
    expect(first.out()).not.toContain(password);

    // Killed under the daemon: started again (new pid), and the daemon is ready again.
    process.kill(pid1, 'SIGKILL');
    await waitFor('a new redis-server', () => { const p = redisPid(); return p !== undefined && p !== pid1 && alive(p); }, 30_000, first.out);
    await waitFor('start to be ready again', () => ready(opsPort), 30_000, first.out);
    expect(first.out()).toMatch(/the private redis-server exited; starting it again/);

    // The daemon killed with -9: its redis-server goes too.
    const pid2 = redisPid()!;
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor('the redis-server of the killed daemon to go', () => !alive(pid2), 30_000);

    // A leftover one (as when its watchdog was killed too): the next start stops it before starting its own.
    const orphan = spawn('redis-server', [join(dataDir, 'redis', 'redis.conf')], { stdio: 'ignore', detached: true });
    orphan.unref();
    await waitFor('the leftover redis-server to write its pid', () => redisPid() === orphan.pid && alive(orphan.pid!), 10_000);
    const second = await start(opsPort);
    await waitFor('the second start to be ready', () => ready(opsPort), 60_000, second.out);
    expect(alive(orphan.pid!)).toBe(false);
    expect(second.out()).toMatch(/a private redis-server of an earlier start is still running/);
    const pid3 = redisPid()!;
    expect(alive(pid3) && pid3 !== orphan.pid).toBe(true);

    // SIGTERM: exits 0 and takes its redis-server with it.
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(alive(pid3)).toBe(false);
    expect(second.out()).not.toContain(password);
  });
  it('dying again and again (more than 3 times a minute), it stops the daemon, which exits 1', async () => {
    const opsPort = await freePort();
    const daemon = await start(opsPort);
    await waitFor('start to be ready', () => ready(opsPort), 60_000, daemon.out);
    const code = new Promise<number | null>((ok) => void daemon.exited.then(ok));
    let exitCode: number | null | undefined;
    void code.then((c) => (exitCode = c));
    for (let i = 0; i < 4 && exitCode === undefined; i++) {
      const pid = redisPid()!;
      process.kill(pid, 'SIGKILL');
      // Started again (a new pid answering), or, at the fourth death, the daemon is on its way out.
      await waitFor(`redis-server death ${i + 1} to be handled`, () => exitCode !== undefined || (redisPid() !== pid && alive(redisPid()!)), 30_000, daemon.out);
    }
    expect(await code, daemon.out().slice(-3000)).toBe(1);
    expect(daemon.out()).toMatch(/the private redis-server keeps exiting; stopping the daemon/);
    expect(alive(redisPid() ?? 0)).toBe(false);
  });
});
