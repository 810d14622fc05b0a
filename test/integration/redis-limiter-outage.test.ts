import { describe, expect, it } from 'vitest';
import { redisLimiter } from '../../src/cloudflare/redis-limiter.js';
import { connectRedis } from '../../src/jobs/redis.js';
import { freePort } from '../helpers/ports.js';

// The shared limiter with its Redis away: the client queues commands until it reconnects, so a
// grant waits, but never past the request's own signal (SDK timeout, job timeout, shutdown).
describe('the shared rate limiter while Redis is unreachable', () => {
  it('fails the request when its signal aborts instead of waiting for Redis forever', async () => {
    const redis = connectRedis(`redis://127.0.0.1:${await freePort()}`, 'test-limiter');
    try {
      const limiter = redisLimiter({ redis, key: 'outage', setting: { requests: 10, windowMs: 1_000 } });
      let called = false;
      const fetch = limiter.fetch(async () => {
        called = true;
        return new Response('{}');
      });
      const t0 = Date.now();
      await expect(fetch('http://example.invalid/', { signal: AbortSignal.timeout(300) })).rejects.toThrow(/timeout|abort/i);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(called).toBe(false);
      await expect(limiter.acquire(AbortSignal.timeout(200))).rejects.toThrow(/timeout|abort/i);
    } finally {
      redis.disconnect();
    }
  });
});
