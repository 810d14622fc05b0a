// The redis-server `flarewatch start` runs for itself when no REDIS_URL is given. Its life is tied
// to the daemon's:
// - It runs under a small sh watchdog that holds a pipe from the daemon: when the daemon dies,
//   even by kill -9, the pipe closes and the watchdog stops redis-server.
// - Its pid file and the daemon's own (owner.pid) live in <dataDir>/redis: a start finding a live
//   owner refuses (two daemons on one append-only file); finding a dead owner's redis-server still
//   running (the watchdog killed too), it stops that one first.
// - When it dies under a running daemon it is started again, same port, same files: the queues are
//   in its append-only file and ioredis reconnects by itself, so running walks go on. If it dies
//   again and again (RESTART_LIMIT within RESTART_WINDOW_MS) the daemon is told to stop, exit 1.
// - It has a password, generated once, kept in <dataDir>/redis/redis.conf (0600), never logged
//   and never on a command line (which every local user can read in /proc).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import { FatalError } from '../util/fatal-error.js';
import { freePort } from '../util/free-port.js';
import { waitForRedis } from './redis.js';

class ExitedWhileStarting extends Error {
  constructor() {
    super('redis-server exited while starting');
  }
}

const RESTART_LIMIT = 3;
const RESTART_WINDOW_MS = 60_000;
// $1: the config file. fd 3 is the daemon's pipe; EOF on it (the daemon gone) stops redis-server.
const WATCHDOG = 'exec 3<&0; redis-server "$1" & rp=$!; (read _ <&3; kill -TERM $rp 2>/dev/null) & wait $rp';

export interface PrivateRedis {
  /** With the password: never log it. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};
const readPid = (file: string) => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || undefined : undefined);

async function stopStale(pid: number, log: Logger): Promise<void> {
  log.warn({ pid }, 'a private redis-server of an earlier start is still running (its daemon was killed): stopping it first');
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
}

/** The password, created on first use; the config file holds it (0600). */
function writeConfig(dir: string, port: number): string {
  const passFile = join(dir, 'password');
  if (!existsSync(passFile)) writeFileSync(passFile, randomBytes(24).toString('hex'), { mode: 0o600, flag: 'wx' });
  const password = readFileSync(passFile, 'utf8').trim();
  const lines = [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, 'save ""', 'appendonly yes', `pidfile ${join(dir, 'redis-server.pid')}`, `requirepass ${password}`];
  writeFileSync(join(dir, 'redis.conf'), `${lines.join('\n')}\n`, { mode: 0o600 });
  return password;
}

/** `onFatal`: redis-server keeps dying; the daemon should stop (exit 1). */
export async function startPrivateRedis(dataDir: string, log: Logger, onFatal: (reason: string) => void): Promise<PrivateRedis> {
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ownerFile = join(dir, 'owner.pid');
  const owner = readPid(ownerFile);
  if (owner && owner !== process.pid && alive(owner) && /flarewatch|cli\.(ts|js)|node/.test(cmdline(owner))) {
    throw new FatalError(`another flarewatch start (pid ${owner}) runs with this data folder (${dir}); stop it first, or give this one its own FLAREWATCH_DATA_DIR (or remove ${ownerFile} if that process is not flarewatch)`);
  }
  const stale = readPid(join(dir, 'redis-server.pid'));
  if (stale && alive(stale) && cmdline(stale).includes('redis-server')) await stopStale(stale, log);
  writeFileSync(ownerFile, String(process.pid));

  const port = await freePort();
  const password = writeConfig(dir, port);
  const url = `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  let child: ChildProcess;
  let stopping = false;
  let fatal = false;
  let running = false;
  const die = (reason: string) => {
    if (fatal) return;
    fatal = true;
    onFatal(reason);
  };
  const deaths: number[] = [];
  const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
    // Before the first start succeeded, the caller gets the error instead.
    if (stopping || fatal || !running) return;
    const now = Date.now();
    deaths.push(now);
    const recent = deaths.filter((t) => now - t < RESTART_WINDOW_MS).length;
    if (recent > RESTART_LIMIT) {
      log.error({ exits: recent }, 'the private redis-server keeps exiting; stopping the daemon');
      return die(`the private redis-server exited ${recent} times within ${RESTART_WINDOW_MS / 1000} s`);
    }
    log.error({ code, signal }, 'the private redis-server exited; starting it again on the same port and files');
    // One that dies while starting is counted by its own exit; anything else is the end.
    launch().catch((err: unknown) => (err instanceof ExitedWhileStarting ? undefined : die(`the private redis-server did not start again: ${(err as Error).message}`)));
  };
  const launch = async () => {
    const current = spawn('sh', ['-c', WATCHDOG, 'sh', join(dir, 'redis.conf')], { stdio: ['pipe', 'ignore', 'ignore'] });
    child = current;
    const gone = new Promise<never>((_, fail) => {
      current.once('error', fail);
      current.once('exit', (code, signal) => {
        current.stdin?.destroy();
        fail(new ExitedWhileStarting());
        onExit(code, signal);
      });
    });
    await Promise.race([waitForRedis(url, 10_000), gone]);
    gone.catch(() => undefined);
  };
  await launch();
  running = true;
  return {
    url,
    port,
    async stop() {
      stopping = true;
      const current = child;
      if (current.exitCode === null && current.signalCode === null) {
        const exited = new Promise<void>((ok) => current.once('exit', () => ok()));
        // EOF on the watchdog's pipe stops redis-server (it writes its append-only file first).
        current.stdin?.end();
        const hard = setTimeout(() => current.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(hard);
      }
      if (readPid(ownerFile) === process.pid) rmSync(ownerFile, { force: true });
    },
  };
}
