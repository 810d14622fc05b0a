import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { type RateLimitSetting, type RequestLimiter } from './rate-limit.js';
import { retryAfterMs } from '../util/retry-after.js';

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
local inflight = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + inflight, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window + inflight)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now + 1)
`;

// A request answered: its entry's time becomes the answer's time (Cloudflare saw it at or before).
const COMPLETE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
return 0
`;

// Extend (never shorten) the credential's pause: a 429 with Retry-After holds every worker back.
const PAUSE = `
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 0
`;

export interface RedisLimiterOptions {
  redis: Redis;
  /** A hash naming the budget (credentials/limiters.ts), never a credential itself. */
  key: string;
  setting: RateLimitSetting;
  /** Longest single sleep before asking Redis again (default: the window; see `grant`). */
  maxSleepMs?: number;
  inflightMs?: number;
}

export interface SharedLimiter extends RequestLimiter {
  /** The sorted set holding this budget's grants (for absorbing another's). */
  readonly windowKey: string;
  /**
   * A fetch paced by the shared window, counting each request from its grant until its answer:
   * Cloudflare receives a request somewhere in between, so counting the whole span keeps every
   * one of Cloudflare's windows under the limit whatever the latency. 429 pauses the credential.
   */
  fetch(inner?: typeof fetch): typeof fetch;
}

/**
 * A Redis call that gives up when `signal` aborts. While Redis is away (restart) the client queues
 * commands until it reconnects; a grant waits for that, but never past the request's own signal
 * (the SDK's timeout, the job's timeout, shutdown): the request then fails, the SDK retries it,
 * and a walk that runs out of retries fails its job, which the queue retries.
 */
function untilAborted<T>(call: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return call;
  if (signal.aborted) {
    call.catch(() => undefined);
    return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted while waiting for the rate limiter (Redis)'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      call.catch(() => undefined);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted while waiting for the rate limiter (Redis)'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** One limiter per credential shared by every process through Redis; implements RequestLimiter. */
export function redisLimiter(opts: RedisLimiterOptions): SharedLimiter {
  const windowKey = `flarewatch:ratelimit:${opts.key}:log`;
  const pauseKey = `flarewatch:ratelimit:${opts.key}:pause`;
  const stats = { waits: 0, waitedMs: 0, pauses: 0 };
  const maxSleep = opts.maxSleepMs ?? opts.setting.windowMs + 1;
  // An entry whose answer never comes (process killed) counts this long past its grant.
  const inflightMs = opts.inflightMs ?? 120_000;
  const { redis } = opts;

  async function grant(inflight: number, signal?: AbortSignal): Promise<string> {
    const started = Date.now();
    for (;;) {
      signal?.throwIfAborted();
      const member = `${Date.now()}-${randomBytes(6).toString('hex')}`;
      const wait = Number(await untilAborted(redis.eval(ACQUIRE, 2, windowKey, pauseKey, opts.setting.requests, opts.setting.windowMs, member, inflight), signal));
      if (wait <= 0) {
        const waited = Date.now() - started;
        if (waited > 0) {
          stats.waits += 1;
          stats.waitedMs += waited;
        }
        return member;
      }
      // The wait is exact: no slot frees before the oldest grant leaves the window (an answer rescores its
      // grant to the answer's time, never older than the oldest), and with every slot in flight none frees
      // sooner than a window from now. So sleep it out rather than poll: polling every 250 ms was most of
      // a round's Redis commands (6.7 grants asked per stream, bench of 2026-12-07). Jitter: waiters do not
      // all ask at the same millisecond.
      await sleep(Math.min(wait, maxSleep) + Math.floor(Math.random() * 10), undefined, { signal });
    }
  }

  const pause = (ms: number) => {
    stats.pauses += 1;
    // RequestLimiter.pause is synchronous; a failure here only means the next acquire may meet a 429 too.
    redis.eval(PAUSE, 1, pauseKey, Math.max(1, Math.ceil(ms))).catch(() => undefined);
  };

  return {
    stats,
    pause,
    windowKey,
    async absorb(other) {
      const from = (other as Partial<SharedLimiter>).windowKey;
      if (!from || from === windowKey) return;
      // Grants are uniquely named members: the union counts each once, however often it is absorbed.
      await redis.zunionstore(windowKey, 2, windowKey, from, 'AGGREGATE', 'MAX');
      await redis.pexpire(windowKey, opts.setting.windowMs + inflightMs);
    },
    async acquire(signal) {
      await grant(0, signal);
    },
    fetch(inner = fetch) {
      return async (input, init) => {
        const member = await grant(inflightMs, init?.signal ?? undefined);
        try {
          const response = await inner(input, init);
          if (response.status === 429) pause(retryAfterMs(response.headers.get('retry-after')) ?? 60_000);
          return response;
        } finally {
          // Not awaited: with Redis away it would wait for the reconnection. Commands on one connection
          // run in order, so this process's next grant still sees the entry completed.
          redis.eval(COMPLETE, 1, windowKey, member).catch(() => undefined);
        }
      };
    },
  };
}
