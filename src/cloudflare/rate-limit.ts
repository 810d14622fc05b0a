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
 * A sliding-window log: at most `requests` in any `windowMs`, bursts allowed up to that. A request
 * sent through `span` counts from its grant until its answer (in flight it counts as if it were
 * still to arrive), then as of its answer: Cloudflare received it somewhere in between, so no
 * window of Cloudflare's, fixed or sliding, ever holds more than `requests`, whatever the latency
 * (the Redis limiter counts the same way). No margin is needed for flarewatch's own requests;
 * `acquire` alone counts from the grant. Grants are FIFO.
 */
export function slidingWindowLimiter(setting: RateLimitSetting, now: () => number = Date.now): RequestLimiter & { span(signal?: AbortSignal): Promise<() => void> } {
  // Ascending; requests in flight are Infinity, at the end.
  const grants: number[] = [];
  let pausedUntil = 0;
  let queue: Promise<void> = Promise.resolve();
  let answered: { promise: Promise<void>; wake: () => void } = settleable();
  const stats = { waits: 0, waitedMs: 0, pauses: 0 };

  async function next(at: number | undefined, signal?: AbortSignal): Promise<void> {
    const started = now();
    for (;;) {
      const t = now();
      while (grants.length && grants[0]! <= t - setting.windowMs) grants.shift();
      const waitPause = pausedUntil - t;
      const full = grants.length >= setting.requests;
      // Every slot held by a request in flight: its answer frees one.
      if (full && grants[0] === Infinity && waitPause <= 0) {
        await untilAnswered(answered.promise, signal);
        continue;
      }
      const wait = Math.max(waitPause, full ? grants[0]! + setting.windowMs - t + 1 : 0);
      if (wait <= 0) break;
      await sleep(wait, undefined, { signal });
    }
    if (at === Infinity) grants.push(Infinity);
    else insertSorted(grants, now());
    const waited = now() - started;
    if (waited > 0) {
      stats.waits += 1;
      stats.waitedMs += waited;
    }
  }

  const inTurn = (at: number | undefined, signal?: AbortSignal) => {
    const turn = queue.then(() => next(at, signal));
    queue = turn.catch(() => undefined);
    return turn;
  };

  const self: RequestLimiter & { grants: number[]; span(signal?: AbortSignal): Promise<() => void> } = {
    stats,
    grants,
    async absorb(other) {
      const theirs = (other as Partial<typeof self>).grants ?? [];
      for (const g of theirs) if (g !== Infinity) insertSorted(grants, g);
    },
    acquire: (signal) => inTurn(undefined, signal),
    async span(signal) {
      await inTurn(Infinity, signal);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        grants.pop();
        insertSorted(grants, now());
        const { wake } = answered;
        answered = settleable();
        wake();
      };
    },
    pause(ms) {
      stats.pauses += 1;
      pausedUntil = Math.max(pausedUntil, now() + ms);
    },
  };
  return self;
}

/** Wait for the next answer, or reject when `signal` aborts. */
function untilAnswered(answer: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return answer;
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted while waiting for the rate limiter'));
    signal.addEventListener('abort', onAbort, { once: true });
    void answer.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

function settleable(): { promise: Promise<void>; wake: () => void } {
  let wake = () => undefined as void;
  const promise = new Promise<void>((resolve) => (wake = resolve));
  return { promise, wake };
}

/** Insert `t` into ascending `list`, before any Infinity (in flight). */
function insertSorted(list: number[], t: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]! > t) i--;
  list.splice(i, 0, t);
}

/** A fetch that waits for the limiter (counting the request until its answer) and turns a 429 into a pause for every caller. */
export function limitedFetch(limiter: RequestLimiter, inner: typeof fetch = fetch): typeof fetch {
  const spans = (limiter as Partial<ReturnType<typeof slidingWindowLimiter>>).span;
  return async (input, init) => {
    const signal = init?.signal ?? undefined;
    const release = spans ? await spans(signal) : (await limiter.acquire(signal), () => undefined);
    try {
      const response = await inner(input, init);
      if (response.status === 429) limiter.pause(retryAfterMs(response.headers.get('retry-after')) ?? 60_000);
      return response;
    } finally {
      release();
    }
  };
}
