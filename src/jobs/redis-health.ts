import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { formatDuration } from '../util/duration.js';

export interface RedisHealth {
  /** Give every BullMQ Queue/Worker/FlowProducer 'error' here: one line per state change, not per retry. */
  onError(err: Error): void;
  close(): void;
}

/**
 * During an outage every queue, worker and blocking connection retries several times a second,
 * each retry an 'error'. The log gets one line when Redis is lost, one "still down" line after
 * 30 s, 1 min, 2 min… (doubling, at most every 10 min), and one when it is back; each retry's
 * error only at debug level.
 */
export function watchRedisHealth(redis: Redis, log: Logger, opts: { firstReminderMs?: number } = {}): RedisHealth {
  const first = opts.firstReminderMs ?? 30_000;
  let downSince: number | undefined;
  let timer: NodeJS.Timeout | undefined;

  const remind = (afterMs: number) => {
    timer = setTimeout(() => {
      if (downSince === undefined) return;
      const downMs = Date.now() - downSince;
      log.warn({ downMs }, `Redis still down after ${formatDuration(downMs)}; jobs wait for it`);
      remind(Math.min(afterMs * 2, 600_000));
    }, afterMs);
    timer.unref();
  };

  const onError = (err: Error) => {
    log.debug({ err: err.message }, 'redis connection error');
    // A duplicate connection still reconnecting while the main one is up is not an outage.
    if (downSince !== undefined || redis.status === 'ready') return;
    downSince = Date.now();
    log.error({ err: err.message }, `Redis connection lost: ${err.message}; jobs wait until it is back`);
    remind(first);
  };
  const onReady = () => {
    if (downSince === undefined) return;
    const downMs = Date.now() - downSince;
    downSince = undefined;
    clearTimeout(timer);
    log.info({ downMs }, `Redis connection back after ${formatDuration(downMs)}`);
  };
  redis.on('error', onError);
  redis.on('ready', onReady);
  return {
    onError,
    close() {
      clearTimeout(timer);
      redis.off('error', onError);
      redis.off('ready', onReady);
    },
  };
}
