import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, startTestDaemon } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'redis-outage-log tests');

// A Redis outage used to fill the log: every queue, worker and blocking connection logged (or
// BullMQ printed, stack and all) each reconnection attempt, several a second. Now: one line when
// it is lost, "still down" lines spaced out, one when it is back; the retries only at debug.
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;

beforeAll(async () => {
  sim = await startSimulator({ seed: 41, size: { accounts: 1, accountAuditEntries: 20, accountAuditV1Entries: 5, userAuditEntries: 5, auditDays: 1 }, rateLimit: false });
  db = await createTestDatabase();
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis?.stop();
  await sim?.close();
  await db?.drop();
});

const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: string });

describe.runIf(REDIS)('the daemon while Redis is away', () => {
  it('logs the outage once, reminds that it is still down, and says when it is back; nothing printed to the console', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const daemon = await startTestDaemon(daemonEnv(db.url, sim, redis.url, { FLAREWATCH_RATE_LIMIT: '1000/5m' }), { scheduler: true, workers: true }, { redisReminderMs: 1_000 });
    try {
      const before = daemon.logLines.length;
      await redis.restart(4_000);
      // Back is logged once the main connection is ready again.
      for (let i = 0; i < 300 && !daemon.logLines.slice(before).some((l) => l.includes('Redis connection back')); i++) await new Promise((r) => setTimeout(r, 100));
      const lines = parsed(daemon.logLines.slice(before));
      const loud = lines.filter((l) => l.level >= 40);
      expect(loud.filter((l) => l.msg.startsWith('Redis connection lost')).length).toBe(1);
      expect(loud.filter((l) => l.msg.startsWith('Redis still down after')).length).toBeGreaterThanOrEqual(1);
      expect(lines.filter((l) => l.msg.startsWith('Redis connection back after')).length).toBe(1);
      // Nothing else at warn or above: no per-retry line, no stack.
      expect(loud.filter((l) => !/^Redis (connection lost|still down)/.test(l.msg))).toEqual([]);
      expect(daemon.logLines.slice(before).filter((l) => l.includes('\\n    at '))).toEqual([]);
      expect(printed).not.toHaveBeenCalled();
      expect(warned).not.toHaveBeenCalled();
    } finally {
      await daemon.shutdown();
      printed.mockRestore();
      warned.mockRestore();
    }
  });
});
