import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/jobs/redis.js';
import { createQueueUi } from '../../src/ops/queue-ui.js';
import { startOpsServer } from '../../src/ops/server.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, startTestDaemon, type TestDaemon, waitIdle } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool, toolPath } from '../helpers/tools.js';

// Debian's chromium, driven by playwright-core (never a downloaded browser). .ci/run installs it.
const RUNS = needTool('redis-server', 'queue-ui tests') && needTool('chromium', 'queue-ui tests');
const CHROMIUM = toolPath('chromium')!;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
let daemon: TestDaemon | undefined;
let port: number;
let browser: BrowserContext | undefined;
let profile: string;

describe.runIf(RUNS)('the queue UI (Bull Board at /queues)', () => {
  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, size: { accounts: 1, userAuditEntries: 10, accountAuditEntries: 10, accountAuditV1Entries: 10, auditDays: 2 }, rateLimit: false });
    [db, redis, port] = await Promise.all([createTestDatabase(), startTestRedis(), freePort()]);
    // The credential lacks the permission this stream needs: its walk fails for good (403), so the queue holds a failed job.
    sim.credentials.deny.push('GET /user/tokens');
    const env = daemonEnv(db.url, sim, redis.url, { FLAREWATCH_HTTP_PORT: String(port), FLAREWATCH_QUEUE_UI: 'true', FLAREWATCH_STREAMS: 'user-tokens' });
    daemon = await startTestDaemon(env, { scheduler: true, workers: true });
    await daemon.scheduler!.tick(new Date());
    await waitIdle(redis.url, 60_000);
    profile = mkdtempSync(join(tmpdir(), 'flarewatch-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await daemon?.shutdown('test over');
    await sim?.close();
    await redis?.stop();
    await db?.drop();
  });

  it('shows the three queues, and the failed job with its reason', async () => {
    const page = await browser!.newPage();
    const body = () => page.locator('body').innerText();
    await page.goto(`http://127.0.0.1:${port}/queues`);
    // The board renders in the browser (React) from its JSON API: wait until the queues are drawn.
    await expect.poll(body, { timeout: 60_000 }).toMatch(/QUEUES[\s\S]*sync[\s\S]*checks[\s\S]*alerts/);
    await expect.poll(body, { timeout: 60_000 }).toMatch(/sync\s+FAILED\s+1/);
    await page.goto(`http://127.0.0.1:${port}/queues/queue/sync?status=failed`);
    await expect.poll(body, { timeout: 60_000 }).toMatch(/sync\.stream/);
    // The failed job of the walk, with the reason it failed for good.
    await expect.poll(body, { timeout: 60_000 }).toMatch(/sync\|user-tokens@default\|/);
    await expect.poll(body, { timeout: 60_000 }).toMatch(/UnrecoverableError: stream user-tokens:default: GET \/user\/tokens/);
    await page.close();
  });

  it('exposed, it asks for basic auth and lets the right user in', async () => {
    const exposedPort = await freePort();
    const connection = connectRedis(redis.url, 'test-ui');
    const ops = await startOpsServer({
      port: exposedPort, host: '127.0.0.1', db: db.db, redis: connection, metrics: daemon!.metrics,
      queueUi: createQueueUi(connection, { enabled: true, expose: true, user: 'ops', password: 'correct horse' }),
    });
    try {
      const at = `http://127.0.0.1:${exposedPort}/queues`;
      const none = await fetch(at);
      expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="flarewatch queues", charset="UTF-8"']);
      const auth = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
      expect((await fetch(at, { headers: auth('ops', 'wrong') })).status).toBe(401);
      const ok = await fetch(at, { headers: auth('ops', 'correct horse') });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('flarewatch queues');
      expect((await fetch(`http://127.0.0.1:${exposedPort}/healthz`)).status).toBe(200);
    } finally {
      await ops.close();
      connection.disconnect();
    }
  });

  it('with a token, its own page logs in and may pause a queue; another origin in the same browser may not', async () => {
    const tokenPort = await freePort();
    const connection = connectRedis(redis.url, 'test-ui-token');
    const ops = await startOpsServer({
      port: tokenPort, host: '127.0.0.1', db: db.db, redis: connection, metrics: daemon!.metrics,
      queueUi: createQueueUi(connection, { enabled: true, expose: false, token: 'browser-token-1' }, '127.0.0.1'),
    });
    const page = await browser!.newPage();
    try {
      await page.goto(`http://127.0.0.1:${tokenPort}/queues/login?token=browser-token-1`);
      await expect.poll(() => page.locator('body').innerText(), { timeout: 60_000 }).toMatch(/QUEUES[\s\S]*sync/);
      // A page of another origin (localhost is not the origin 127.0.0.1) asks for a pause: refused (its preflight gets no CORS grant).
      await page.goto(`http://localhost:${port}/healthz`);
      const foreign = await page.evaluate((u) => fetch(u, { method: 'PUT', credentials: 'include' }).then((r) => String(r.status), () => 'blocked'), `http://127.0.0.1:${tokenPort}/queues/api/queues/sync/pause`);
      expect(foreign).toBe('blocked');
      const q = new Queue('sync', { connection });
      expect(await q.isPaused()).toBe(false);
      await page.goto(`http://127.0.0.1:${tokenPort}/queues`);
      const own = await page.evaluate(() => fetch('/queues/api/queues/sync/pause', { method: 'PUT' }).then((r) => r.status));
      expect(own).toBe(200);
      expect(await q.isPaused()).toBe(true);
      await q.resume();
      await q.close();
    } finally {
      await page.close();
      await ops.close();
      connection.disconnect();
    }
  });

  it('is off unless turned on', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/queues`)).status).toBe(200);
    const off = await startTestDaemon(daemonEnv(db.url, sim, redis.url, { FLAREWATCH_HTTP_PORT: String(await freePort()) }), { workers: false, scheduler: false });
    try {
      expect((await fetch(`http://127.0.0.1:${off.ops!.port}/queues`)).status).toBe(404);
    } finally {
      await off.shutdown('test over');
    }
  });
});
