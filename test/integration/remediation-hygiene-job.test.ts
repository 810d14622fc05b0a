import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { daemonEnv, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { type HttpReceiver, startHttpReceiver } from '../helpers/receivers.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

// Hygiene policies as a job of their own, through BullMQ on a real redis-server: a round of syncs
// and checks gives no notice; the remediation.hygiene job does, and delivers it at once (the
// webhook hears `remediation.notice` without waiting for a round); it runs again without noticing twice.

const DAY = 86_400_000;
let db: TestDatabase;
let redis: TestRedis;
let sim: Simulator;
let hook: HttpReceiver;
let daemon: TestDaemon;
let dir: string;
const at = (min: number) => new Date(Date.parse('2030-01-01T00:00:00Z') + min * 60_000);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const notices = async () => (await db.pool.query<{ object_key: string }>('select object_key from remediation_notices order by id')).rows.map((r) => r.object_key);
const remediationEvents = () => hook.requests.map((r) => String(r.headers['x-flarewatch-event'])).filter((e) => e.startsWith('remediation.'));

beforeAll(async () => {
  sim = await startSimulator({ seed: 1922, rateLimit: false,
    size: { accounts: 1, userTokens: 1, accountTokensPerAccount: 1, membersPerAccount: 2, userInvites: 0, userAuditEntries: 3, accountAuditEntries: 3, accountAuditV1Entries: 3, auditDays: 1 } });
  [db, redis, hook] = await Promise.all([createTestDatabase(), startTestRedis(), startHttpReceiver()]);
  dir = mkdtempSync(join(tmpdir(), 'flarewatch-hygiene-job-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    cloudflare: { credentials: [{ name: 'writer', apiToken: sim.credentials.apiToken, write: true }] },
    alerts: { logSink: false, sinks: { hook: { kind: 'webhook', url: `${hook.url}/hooks`, secret: 'hygiene-job-webhook-secret' } } },
    remediation: { enabled: true, policies: [{ rule: 'token-unused', action: 'disable', after: '0d', notice: '14d' }] },
  }));
  daemon = await startTestDaemon(daemonEnv(db.url, sim, redis.url, { CLOUDFLARE_API_TOKEN: '', FLAREWATCH_CONFIG: config }), { scheduler: true, workers: true, concurrency: 2 });
});
afterAll(async () => {
  await daemon?.shutdown('test over');
  await sim?.close();
  await hook?.close();
  await redis?.stop();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the remediation.hygiene job', () => {
  it('is not part of the check round; its own job notices once and delivers the notice', async () => {
    const account = sim.world.accounts[0]!.id;
    const stale = sim.world.addAccountToken(account, { name: 'stale job token', last_used_on: iso(Date.now() - 200 * DAY), issued_on: '2025-01-01T00:00:00Z', creator_email_at_creation: 'owner@example.com' });

    // Two rounds: the first finds the account, the second walks its streams (its tokens).
    for (const minute of [0, 5]) {
      const round = await daemon.scheduler!.tick(at(minute), ['audit', 'inventory']);
      expect(round.hygiene).toBe(false);
      await waitIdle(redis.url, 120_000);
    }
    const { rows } = await db.pool.query("select status from findings where rule_id = 'token-unused' and resource_key = $1", [`token:${stale.id}`]);
    expect(rows).toEqual([{ status: 'open' }]);
    expect(await notices()).toEqual([]);
    expect(remediationEvents()).toEqual([]);

    const first = await daemon.scheduler!.tick(at(6), ['hygiene']);
    expect(first.hygiene).toBe(true);
    await waitIdle(redis.url, 60_000);
    expect(daemon.completed).toContain('hygiene|20300101T0006Z');
    expect(await notices()).toContain(`token:${stale.id}`);
    const noticed = (await notices()).length;
    expect(remediationEvents()).toEqual(Array(noticed).fill('remediation.notice'));

    await daemon.scheduler!.tick(at(7), ['hygiene']);
    await waitIdle(redis.url, 60_000);
    expect(daemon.completed).toContain('hygiene|20300101T0007Z');
    expect((await notices()).length).toBe(noticed);
    expect(remediationEvents()).toHaveLength(noticed);
    expect(sim.stats.writeTotal).toBe(0);
  });
});
