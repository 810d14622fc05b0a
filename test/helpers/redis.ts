import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedisServer } from '../../src/jobs/redis.js';
import { freePort } from './ports.js';

export interface TestRedis {
  url: string;
  port: number;
  /** Stop and start again on the same port (and, with persist, the same data). */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real redis-server for one test file: a free port, a temp folder, nothing written to disk
 * unless `persist` (an append-only file, for tests that restart Redis and expect the queues back).
 */
export async function startTestRedis(opts: { persist?: boolean } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'flarewatch-test-redis-'));
  const port = await freePort();
  let server: RedisServer = await startRedisServer({ dir, port, persist: opts.persist ?? false });
  return {
    url: server.url,
    port,
    async restart(downMs = 500) {
      await server.stop();
      await new Promise((r) => setTimeout(r, downMs));
      server = await startRedisServer({ dir, port, persist: opts.persist ?? false });
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
