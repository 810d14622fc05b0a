import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { FatalError } from '../util/fatal-error.js';
import { freePort } from '../util/free-port.js';

/**
 * A Redis connection for BullMQ: no per-command retry limit (BullMQ's blocking calls need
 * that), and reconnection forever with a capped delay, so a Redis restart is survived.
 */
export function connectRedis(url: string, name = 'flarewatch'): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(200 * times, 2_000),
  });
  // Connection errors are reported through readiness and job failures; an 'error' with no listener would crash.
  redis.on('error', () => undefined);
  return redis;
}

export class NoRedisError extends FatalError {
  constructor() {
    super(
      'no Redis: set REDIS_URL (e.g. redis://localhost:6379), or install redis-server on the PATH so that ' +
        '`npx flarewatch start` can run its own; or use `npx flarewatch run` (no Redis needed) from cron or a Kubernetes CronJob',
    );
  }
}

/** Where a Redis URL points, without its password: safe for a message. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'an unparsable URL';
  }
}

/**
 * One ping, bounded: the daemon checks Redis before anything else, since every queue and the
 * shared rate limiter wait on it silently (a walk's requests time out, not Redis's).
 */
export async function assertRedisReachable(url: string, setting: string, timeoutMs = 5_000): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  // The socket's own error (ECONNREFUSED, ENOTFOUND) names the cause; connect() only says "closed".
  let cause: string | undefined;
  probe.on('error', (err: Error) => (cause ??= err.message));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([probe.connect().then(() => probe.ping()), timeout]);
  } catch (err) {
    throw new FatalError(`cannot reach Redis at ${redisAddress(url)} (${setting}): ${(cause ?? (err as Error).message).split('\n')[0]}; start it, or fix ${setting}`);
  } finally {
    clearTimeout(timer);
    probe.disconnect();
  }
}

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function redisServerOnPath(): boolean {
  const res = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return res.status === 0;
}

/**
 * Run redis-server from the PATH on loopback. `persist`: append-only file in `dir` (queue state
 * survives a restart); otherwise nothing is written (tests).
 */
export async function startRedisServer(opts: { dir: string; port?: number; persist: boolean }): Promise<RedisServer> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', opts.persist ? 'yes' : 'no'];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const failed = new Promise<never>((_, fail) => child.once('error', fail));
  const url = `redis://127.0.0.1:${port}`;
  await Promise.race([waitForRedis(url, 10_000), failed]);
  return {
    url,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // Cleared once it exits: a pending 5 s timer would keep a stopping process alive that long.
      const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(hard);
    },
  };
}

export async function waitForRedis(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch (err) {
      // The host and port only: a private server's URL carries its password.
      if (Date.now() > end) throw new Error(`redis-server did not answer at ${new URL(url).host}: ${(err as Error).message}`);
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
}

/** The folder `start` keeps its own Redis data in. */
export const embeddedRedisDir = (dataDir: string) => join(dataDir, 'redis');
