import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { RateLimitSetting, RequestLimiter } from './rate-limit.js';

// A sliding-window log in one sorted set per credential: a grant is a member scored with
// Redis's own clock (TIME), so workers on machines whose clocks disagree still share one
// window. Returns 0 for a grant, else the milliseconds to wait. A fixed window would let
// 2x the limit through across a window edge; this never allows more than `limit` in any
// `window`, whichever way Cloudflare draws its windows.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
`;

// Extend (never shorten) the credential's pause: a 429 with Retry-After holds every worker back.
const PAUSE = `
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 0
`;

/** The Redis key part for a credential: a hash, never the credential itself. */
export function credentialKey(credential: { apiToken?: string | undefined; email?: string | undefined; apiKey?: string | undefined }): string {
  const material = credential.apiToken ? `token:${credential.apiToken}` : `key:${credential.email ?? ''}:${credential.apiKey ?? ''}`;
  return createHash('sha256').update(`flarewatch-rate-limit\0${material}`).digest('hex').slice(0, 32);
}

export interface RedisLimiterOptions {
  redis: Redis;
  /** From `credentialKey`. */
  key: string;
  setting: RateLimitSetting;
  /** Longest single sleep before asking Redis again (a waiter re-checks at least this often). */
  maxSleepMs?: number;
}

/** One limiter per credential shared by every process through Redis; implements RequestLimiter. */
export function redisLimiter(opts: RedisLimiterOptions): RequestLimiter {
  const windowKey = `flarewatch:ratelimit:${opts.key}:log`;
  const pauseKey = `flarewatch:ratelimit:${opts.key}:pause`;
  const stats = { waits: 0, waitedMs: 0, pauses: 0 };
  const maxSleep = opts.maxSleepMs ?? 5_000;
  const { redis } = opts;

  return {
    stats,
    async acquire(signal) {
      const started = Date.now();
      for (;;) {
        signal?.throwIfAborted();
        const member = `${Date.now()}-${randomBytes(6).toString('hex')}`;
        const wait = Number(await redis.eval(ACQUIRE, 2, windowKey, pauseKey, opts.setting.requests, opts.setting.windowMs, member));
        if (wait <= 0) break;
        // A little jitter so the workers waiting on one slot do not all ask at the same millisecond.
        await sleep(Math.min(wait, maxSleep) + Math.floor(Math.random() * 5), undefined, { signal });
      }
      const waited = Date.now() - started;
      if (waited > 0) {
        stats.waits += 1;
        stats.waitedMs += waited;
      }
    },
    pause(ms) {
      stats.pauses += 1;
      // RequestLimiter.pause is synchronous; a failure here only means the next acquire may meet a 429 too.
      redis.eval(PAUSE, 1, pauseKey, Math.max(1, Math.ceil(ms))).catch(() => undefined);
    },
  };
}
