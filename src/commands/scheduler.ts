import type { Config } from '../config.js';
import { NoRedisError } from '../jobs/redis.js';
import { runUntilSignalled } from './daemon-process.js';

/** `flarewatch scheduler`: enqueue the cron rounds until stopped (replicas are safe). Needs REDIS_URL. */
export async function schedulerCommand(config: Config): Promise<void> {
  if (!config.redis.url) throw new NoRedisError();
  await runUntilSignalled(config, { redisUrl: config.redis.url, scheduler: true, workers: false });
}
