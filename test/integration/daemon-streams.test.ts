import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, startTestDaemon } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'daemon-streams tests');

let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, size: { accounts: 2 }, rateLimit: false });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

describe.runIf(REDIS)("the daemon's stream selection", () => {
  it('a misspelt kind stops the start, like sync, instead of being dropped', async () => {
    const env = daemonEnv(db.url, sim, redis.url, { FLAREWATCH_STREAMS: 'members,tokenz' });
    await expect(startTestDaemon(env, { scheduler: true })).rejects.toThrow(/^unknown stream "tokenz"; known kinds: /);
  });

  it('FLAREWATCH_STREAMS=members on a fresh database walks accounts first, then members per account', async () => {
    const daemon = await startTestDaemon(daemonEnv(db.url, sim, redis.url, { FLAREWATCH_STREAMS: 'members' }), { scheduler: true });
    try {
      expect(await daemon.scheduler!.streamsFor(['inventory'])).toEqual(['accounts:default']);
      // What that walk records: the accounts, and that the credential reaches them.
      await db.pool.query(`insert into accounts (id, name, raw) values ('a1', 'one', '{}'), ('a2', 'two', '{}')`);
      await db.pool.query(`insert into account_access (credential, account_id) values ('default', 'a1'), ('default', 'a2')`);
      await db.pool.query(`insert into sync_state (stream, last_success_at) values ('accounts:default', now())`);
      expect((await daemon.scheduler!.streamsFor(['inventory'])).sort()).toEqual(['accounts:default', 'members:a1', 'members:a2']);
      // Never walked yet: an audit tick takes them too (and nothing else: accounts has been walked).
      expect((await daemon.scheduler!.streamsFor(['audit'])).sort()).toEqual(['members:a1', 'members:a2']);
    } finally {
      await daemon.shutdown('test over');
    }
  });
});
