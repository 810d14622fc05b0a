import type { Config } from '../config.js';
import { NoRedisError, redisServerOnPath } from '../jobs/redis.js';
import { startPrivateRedis } from '../jobs/private-redis.js';
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
    const log = loggerFor(config);
    // It keeps dying: stop the daemon as a signal would, and exit 1 (private-redis.ts says why not restart for ever).
    const onFatal = (reason: string) => {
      log.error({ reason }, 'stopping: the private redis-server cannot be kept running');
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    };
    const server = await startPrivateRedis(config.dataDir, log, onFatal);
    redisUrl = server.url;
    stopRedis = server.stop;
    log.info({ redis: `127.0.0.1:${server.port}` }, 'using a private redis-server, with a password (set REDIS_URL to use your own)');
  }
  try {
    await runUntilSignalled(config, { redisUrl, scheduler: true, workers: true }, stopRedis);
  } catch (err) {
    await stopRedis();
    throw err;
  }
}
