// The shared limiter's waits on a real redis-server, counted in the limiter's own Lua calls (EVAL),
// not in time: a waiter asks Redis again only when its grant can have come, not every 250 ms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { redisLimiter } from '../../src/cloudflare/redis-limiter.js';
import { connectRedis } from '../../src/jobs/redis.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

let server: TestRedis;
let redis: Redis;
let probe: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  redis = connectRedis(server.url, 'limiter-waits-test');
  probe = connectRedis(server.url, 'limiter-waits-probe');
});
afterAll(async () => {
  redis?.disconnect();
  probe?.disconnect();
  await server?.stop();
});

/** EVAL calls the server has run so far (the limiter's scripts; nothing else here uses EVAL). */
async function evals(): Promise<number> {
  const info = await probe.info('commandstats');
  return Number(/cmdstat_eval:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe('the shared limiter waiting for a slot', () => {
  it('asks Redis once more when the oldest grant leaves the window, not every 250 ms meanwhile', async () => {
    const limiter = redisLimiter({ redis, key: 'waits-answered', setting: { requests: 1, windowMs: 1_500 } });
    await limiter.acquire();
    const before = await evals();
    await limiter.acquire();
    // One refusal (with the exact wait), then the grant. Polling every 250 ms asked 7 times.
    expect(await evals() - before).toBeLessThanOrEqual(3);
  });

  it('with every slot in flight, waits a window before asking again; the answer then sets the exact wait', async () => {
    const limiter = redisLimiter({ redis, key: 'waits-in-flight', setting: { requests: 1, windowMs: 1_000 } });
    let release = () => undefined as void;
    const held = new Promise<void>((r) => (release = r));
    const fetch = limiter.fetch(async () => {
      await held;
      return new Response('{}');
    });
    const first = fetch('http://sim.invalid/first');
    // The first request's grant is in Redis (in flight) once its ACQUIRE ran.
    while ((await evals()) === 0) await new Promise((r) => setTimeout(r, 10));
    const before = await evals();
    const second = limiter.acquire();
    await new Promise((r) => setTimeout(r, 300));
    release();
    await first;
    await second;
    // ACQUIRE (in flight: a window's wait), COMPLETE of the first, ACQUIRE (the exact rest), ACQUIRE (granted). Polling asked 6 or more times.
    expect(await evals() - before).toBeLessThanOrEqual(5);
  });
});
