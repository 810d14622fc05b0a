import { setTimeout as sleep } from 'node:timers/promises';
import { retryAfterMs } from '../util/retry-after.js';

export interface RateLimitSetting {
  requests: number;
  windowMs: number;
}

export interface RequestLimiter {
  /** Resolves when one more request may be sent. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Hold every request back for `ms` (a 429 with Retry-After blocks the whole credential). */
  pause(ms: number): void;
  /**
   * Count another limiter's grants as this one's (they were spent on the same budget before it was
   * known which budget that is: a credential's first requests, keyed by its secret, then by its user).
   */
  absorb?(other: RequestLimiter): Promise<void>;
  readonly stats: { waits: number; waitedMs: number; pauses: number };
}

/**
 * A sliding-window log: at most `requests` grants in any `windowMs`, bursts allowed up to
 * that. Sliding (not fixed) windows keep every window of the server's, fixed or sliding,
 * under the limit. Grants are FIFO.
 */
export function slidingWindowLimiter(setting: RateLimitSetting, now: () => number = Date.now): RequestLimiter {
  const grants: number[] = [];
  let pausedUntil = 0;
  let queue: Promise<void> = Promise.resolve();
  const stats = { waits: 0, waitedMs: 0, pauses: 0 };

  async function next(signal?: AbortSignal): Promise<void> {
    const started = now();
    for (;;) {
      const t = now();
      while (grants.length && grants[0]! <= t - setting.windowMs) grants.shift();
      const waitPause = pausedUntil - t;
      const waitWindow = grants.length >= setting.requests ? grants[0]! + setting.windowMs - t + 1 : 0;
      const wait = Math.max(waitPause, waitWindow);
      if (wait <= 0) break;
      await sleep(wait, undefined, { signal });
    }
    grants.push(now());
    const waited = now() - started;
    if (waited > 0) {
      stats.waits += 1;
      stats.waitedMs += waited;
    }
  }

  const self: RequestLimiter & { grants: number[] } = {
    stats,
    grants,
    async absorb(other) {
      const theirs = (other as Partial<typeof self>).grants ?? [];
      grants.push(...theirs);
      grants.sort((a, b) => a - b);
    },
    acquire(signal) {
      const turn = queue.then(() => next(signal));
      queue = turn.catch(() => undefined);
      return turn;
    },
    pause(ms) {
      stats.pauses += 1;
      pausedUntil = Math.max(pausedUntil, now() + ms);
    },
  };
  return self;
}

/** A fetch that waits for the limiter and turns a 429 into a pause for every caller. */
export function limitedFetch(limiter: RequestLimiter, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    await limiter.acquire(init?.signal ?? undefined);
    const response = await inner(input, init);
    if (response.status === 429) limiter.pause(retryAfterMs(response.headers.get('retry-after')) ?? 60_000);
    return response;
  };
}
