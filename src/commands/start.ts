import type { Config } from '../config.js';
import { embeddedRedisDir, NoRedisError, redisServerOnPath, startRedisServer } from '../jobs/redis.js';
import { loggerFor } from '../app.js';
import { runUntilSignalled } from './daemon-process.js';
import { validateSelection } from '../sync/catalog.js';

/**
 * `flarewatch start`: scheduler and workers in one process. Without REDIS_URL, runs
 * redis-server from the PATH on a private port with its data under the data folder.
 */
export async function startCommand(config: Config): Promise<void> {
  validateSelection(config.sync.streams, config.cloudflare.credentials.map((c) => c.name));
  let redisUrl = config.redis.url;
  let stopRedis = async () => undefined as void;
  if (!redisUrl) {
    if (!redisServerOnPath()) throw new NoRedisError();
    const server = await startRedisServer({ dir: embeddedRedisDir(config.dataDir), persist: true });
    redisUrl = server.url;
    stopRedis = server.stop;
    loggerFor(config).info({ url: redisUrl }, 'using a private redis-server (set REDIS_URL to use your own)');
  }
  try {
    await runUntilSignalled(config, { redisUrl, scheduler: true, workers: true }, stopRedis);
  } catch (err) {
    await stopRedis();
    throw err;
  }
}
