import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/jobs/redis.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTcpGate, type TcpGate } from '../helpers/tcp-gate.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'scheduler-outage tests');

// Postgres goes away at the minute the daily digest, the verification and an hourly round are due
// (the scheduler reaches Postgres through a gate the test shuts). The digest and the verification
// need no Postgres to be enqueued; the round does, and is enqueued at the first tick after Postgres
// is back, under the missed tick's own job ids.
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
let gate: TcpGate;
let daemon: TestDaemon;
const at = (hhmm: string) => new Date(`2030-03-04T${hhmm}:00Z`);

async function jobIds(): Promise<string[]> {
  const connection = connectRedis(redis.url, 'test-probe');
  const ids: string[] = [];
  for (const name of ['sync', 'checks', 'alerts']) {
    const q = new Queue(name, { connection });
    for (const j of await q.getJobs(['waiting', 'waiting-children', 'delayed', 'prioritized'])) ids.push(j.id!);
    await q.close();
  }
  connection.disconnect();
  return ids.sort();
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 9, size: { accounts: 1, userAuditEntries: 5, accountAuditEntries: 5, accountAuditV1Entries: 5, auditDays: 1 }, rateLimit: false });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
  const url = new URL(db.url);
  gate = await startTcpGate(url.hostname, Number(url.port));
  url.port = String(gate.port);
  // A scheduler alone: jobs stay queued for the test to read. Digest 08:00, verify 08:00, streams hourly.
  daemon = await startTestDaemon(daemonEnv(url.toString(), sim, redis.url, {
    FLAREWATCH_SCHEDULE_DIGEST: '0 8 * * *', FLAREWATCH_SCHEDULE_VERIFY: '0 8 * * *', FLAREWATCH_SCHEDULE_INVENTORY: '0 * * * *', FLAREWATCH_SCHEDULE_AUDIT: '0 * * * *',
    FLAREWATCH_STREAMS: 'user-tokens', FLAREWATCH_DB_CONNECT_TIMEOUT: '2s',
  }), { scheduler: true });
});

afterAll(async () => {
  await daemon?.shutdown('test over');
  await gate?.close();
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

describe.runIf(REDIS)('a tick during a Postgres outage', () => {
  it('still enqueues the digest and the verification, and the round is caught up once Postgres is back', async () => {
    await daemon.scheduler!.tick(at('07:00'));
    expect(await jobIds()).toContain('sync|user-tokens@default|20300304T0700Z');

    gate.shut();
    // What the tick enqueued is read from Redis first: the tick's own answer comes after.
    const during = await daemon.scheduler!.tick(at('08:00')).catch((err: Error) => err);
    const ids = await jobIds();
    expect(ids).toContain('digest|20300304T0800Z');
    expect(ids).toContain('verify|20300304T0800Z');
    expect(ids).not.toContain('sync|user-tokens@default|20300304T0800Z');
    if (during instanceof Error) throw during;
    expect(during.failed.sort()).toEqual(['audit', 'inventory']);
    expect([during.digest, during.verify]).toEqual([true, true]);

    // Still down a minute later: the catch-up fails again (and is tried again later); the tick does not throw.
    const still = await daemon.scheduler!.tick(at('08:01'));
    expect(still.caughtUp.map((c) => c.tick)).toEqual(['2030-03-04T08:00:00.000Z', '2030-03-04T08:00:00.000Z']);
    expect(still.failed.sort()).toEqual(['audit', 'inventory']);
    expect(await jobIds()).not.toContain('sync|user-tokens@default|20300304T0800Z');

    gate.open();
    const after = await daemon.scheduler!.tick(at('08:02'));
    expect(after.caughtUp).toEqual([{ group: 'audit', tick: '2030-03-04T08:00:00.000Z' }, { group: 'inventory', tick: '2030-03-04T08:00:00.000Z' }]);
    const caught = await jobIds();
    expect(caught).toContain('sync|user-tokens@default|20300304T0800Z');
    expect(caught).toContain('checks|20300304T0800Z');
    // The digest and the verification were enqueued once, at their own tick: nothing of theirs is caught up.
    expect(caught.filter((id) => id.startsWith('digest|') || id.startsWith('verify|'))).toEqual(['digest|20300304T0800Z', 'verify|20300304T0800Z']);

    // Caught up once: the next tick finds nothing missed.
    expect((await daemon.scheduler!.tick(at('08:03'))).caughtUp).toEqual([]);
  });
});
