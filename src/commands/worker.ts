import type { Config } from '../config.js';
import { NoRedisError } from '../jobs/redis.js';
import { runUntilSignalled } from './daemon-process.js';

/** `flarewatch worker`: take jobs from the queues until stopped. Needs REDIS_URL. */
export async function workerCommand(config: Config): Promise<void> {
  if (!config.redis.url) throw new NoRedisError();
  await runUntilSignalled(config, { redisUrl: config.redis.url, scheduler: false, workers: true });
}
