// The in-process limiter counts a request from its grant until its answer, then as of its answer:
// Cloudflare receives it somewhere in between, so however long a request takes, no window of
// Cloudflare's sees more than the limit. A fake clock drives the windows; nothing here measures time.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { limitedFetch, slidingWindowLimiter } from '../../src/cloudflare/rate-limit.js';

describe('the sliding-window limiter', () => {
  it('counts a request in flight however old its grant, and from its answer once answered', async () => {
    let clock = 0;
    const limiter = slidingWindowLimiter({ requests: 2, windowMs: 50 }, () => clock);
    const first = await limiter.span();
    await limiter.span();
    let third = false;
    const granted = limiter.span().then(() => (third = true));
    await sleep(20);
    expect(third).toBe(false);
    clock = 1_000; // both grants are past their window, but both requests are still in flight
    await sleep(20);
    expect(third).toBe(false);
    first(); // answered at 1000: it holds its slot until 1050
    await sleep(20);
    expect(third).toBe(false);
    clock = 1_051;
    await granted;
    expect(third).toBe(true);
  });

  it('acquire alone counts from the grant; absorb takes over another limiter\'s answered requests', async () => {
    let clock = 0;
    const a = slidingWindowLimiter({ requests: 2, windowMs: 50 }, () => clock);
    await a.acquire();
    const release = await a.span();
    release();
    const b = slidingWindowLimiter({ requests: 2, windowMs: 50 }, () => clock);
    await b.absorb!(a);
    let granted = false;
    const next = b.acquire().then(() => (granted = true));
    await sleep(20);
    expect(granted).toBe(false);
    clock = 51;
    await next;
    expect(granted).toBe(true);
  });

  it('limitedFetch releases the slot on an error and pauses every caller on a 429', async () => {
    let clock = 0;
    const limiter = slidingWindowLimiter({ requests: 1, windowMs: 50 }, () => clock);
    const failing = limitedFetch(limiter, async () => { throw new Error('connection reset'); });
    await expect(failing('http://x')).rejects.toThrow('connection reset');
    clock = 51; // the failed request's slot ends a window after its answer, not never
    const limited = limitedFetch(limiter, async () => new Response('', { status: 429, headers: { 'retry-after': '7' } }));
    expect((await limited('http://x')).status).toBe(429);
    expect(limiter.stats.pauses).toBe(1);
    const aborted = new AbortController();
    const waiting = limitedFetch(limiter, async () => new Response('ok'))('http://x', { signal: aborted.signal });
    aborted.abort(new Error('shutdown'));
    await expect(waiting).rejects.toThrow(/abort/i); // held back by the pause, until its signal ends the wait
  });
});
