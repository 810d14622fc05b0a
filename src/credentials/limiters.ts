import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type RequestLimiter, slidingWindowLimiter } from '../cloudflare/rate-limit.js';
import { redisLimiter, type SharedLimiter } from '../cloudflare/redis-limiter.js';
import type { RateLimitSetting } from '../util/rate-limit-setting.js';

/**
 * Where limiters come from, keyed by what Cloudflare counts a limit against: a user (all of that
 * user's tokens and its global key share one budget) or one account-owned token. Before a
 * credential's identity is known its key is a hash of its secret, never the secret itself.
 */
export interface LimiterRegistry {
  get(key: string, setting: RateLimitSetting): RequestLimiter;
  /** Every limiter handed out so far, by key (for statistics). */
  readonly all: Map<string, RequestLimiter>;
}

/** The margin applied: pace below Cloudflare's limit so clock edges never meet a 429. */
export const pacedSetting = (s: RateLimitSetting, margin: number): RateLimitSetting => ({
  requests: Math.max(1, Math.floor(s.requests * (1 - margin))),
  windowMs: s.windowMs,
});

/** In-process limiters (`run`): one sliding window per key for this process. */
export function localLimiters(margin: number): LimiterRegistry {
  const all = new Map<string, RequestLimiter>();
  return {
    all,
    get(key, setting) {
      let l = all.get(key);
      if (!l) all.set(key, (l = slidingWindowLimiter(pacedSetting(setting, margin))));
      return l;
    },
  };
}

/** Limiters shared by every process through Redis (the daemon): one sorted set per key. */
export function redisLimiters(redis: Redis, margin: number): LimiterRegistry & { all: Map<string, SharedLimiter> } {
  const all = new Map<string, SharedLimiter>();
  return {
    all,
    get(key, setting) {
      let l = all.get(key);
      if (!l) all.set(key, (l = redisLimiter({ redis, key: hashKey(key), setting: pacedSetting(setting, margin) })));
      return l;
    },
  };
}

/** The name a budget's limiter goes by in Redis (never the credential: a hash of what Cloudflare counts against). */
export const hashKey = (key: string) => createHash('sha256').update(`flarewatch-rate-limit\0${key}`).digest('hex').slice(0, 32);

/** The key of a credential whose identity is not known yet: a hash of its secret. */
export function secretKey(c: { apiToken?: string | undefined; email?: string | undefined; apiKey?: string | undefined }): string {
  const material = c.apiToken ? `token:${c.apiToken}` : `key:${(c.email ?? '').toLowerCase()}:${c.apiKey ?? ''}`;
  return `secret:${createHash('sha256').update(material).digest('hex').slice(0, 32)}`;
}
