import { loadConfig } from '../config.js';
import { NoRedisError } from '../jobs/redis.js';
import { runUntilSignalled } from './daemon-process.js';

/** `flarewatch worker`: take jobs from the queues until stopped. Needs REDIS_URL. */
export async function workerCommand(o: { concurrency?: number }): Promise<void> {
  const config = loadConfig(process.env, { 'daemon.concurrency': o.concurrency });
  if (!config.redis.url) throw new NoRedisError();
  await runUntilSignalled(config, { redisUrl: config.redis.url, scheduler: false, workers: true });
}
