import { request } from 'node:http';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/jobs/redis.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daemonEnv, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/ports.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { needTool } from '../helpers/tools.js';

const REDIS = needTool('redis-server', 'ops-guard tests');

// Hostile requests to the ops server, as a web page in the operator's browser would send them:
// by DNS rebinding (its own host name, our address), or from its own origin through a port-forward.
let db: TestDatabase;
let sim: Simulator;
let redis: TestRedis;
const daemons: TestDaemon[] = [];

interface Answer { status: number; body: string; headers: Record<string, string | string[] | undefined> }

/** A raw request: fetch would not let a test choose the Host header. */
function send(port: number, method: string, path: string, headers: Record<string, string>, address = '127.0.0.1'): Promise<Answer> {
  return new Promise((ok, fail) => {
    const req = request({ host: address, port, method, path, headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => ok({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', fail);
    req.end();
  });
}

async function daemonWith(extra: Record<string, string>): Promise<{ port: number; daemon: TestDaemon }> {
  const port = await freePort();
  const daemon = await startTestDaemon(daemonEnv(db.url, sim, redis.url, { FLAREWATCH_HTTP_PORT: String(port), FLAREWATCH_QUEUE_UI: 'true', ...extra }), {});
  daemons.push(daemon);
  return { port, daemon };
}

async function syncPaused(): Promise<boolean> {
  const connection = connectRedis(redis.url, 'test-probe');
  const q = new Queue('sync', { connection });
  try {
    return await q.isPaused();
  } finally {
    await q.close();
    connection.disconnect();
  }
}

async function resumeSync(): Promise<void> {
  const connection = connectRedis(redis.url, 'test-probe');
  const q = new Queue('sync', { connection });
  await q.resume();
  await q.close();
  connection.disconnect();
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, size: { accounts: 1, userAuditEntries: 5, accountAuditEntries: 5, accountAuditV1Entries: 5, auditDays: 1 }, rateLimit: false });
  [db, redis] = await Promise.all([createTestDatabase(), startTestRedis()]);
});

afterEach(async () => {
  for (const d of daemons.splice(0)) await d.shutdown('test over');
  await resumeSync();
});

afterAll(async () => {
  await sim?.close();
  await redis?.stop();
  await db?.drop();
});

const PAUSE = '/queues/api/queues/sync/pause';

describe.runIf(REDIS)('the queue UI refuses what a web page could send it', () => {
  it('a foreign Host (DNS rebinding) is refused, and the queue is not paused', async () => {
    const { port } = await daemonWith({ FLAREWATCH_QUEUE_UI_TOKEN: 'tok-123456' });
    const evil = `rebind.attacker.example:${port}`;
    const res = await send(port, 'PUT', PAUSE, { host: evil, origin: `http://${evil}`, authorization: 'Bearer tok-123456' });
    expect(res.status).toBe(421);
    expect(res.body).toMatch(/host name is not one the queue UI answers to/);
    expect((await send(port, 'GET', '/queues', { host: evil })).status).toBe(421);
    expect(await syncPaused()).toBe(false);
  });

  it('a state change from another origin (or none) is refused, even with our Host', async () => {
    const { port } = await daemonWith({ FLAREWATCH_QUEUE_UI_TOKEN: 'tok-123456' });
    const host = `127.0.0.1:${port}`;
    const foreign = await send(port, 'PUT', PAUSE, { host, origin: 'http://attacker.example', authorization: 'Bearer tok-123456' });
    expect([foreign.status, foreign.body]).toEqual([403, "a change to the queues must come from the queue UI's own page (Origin)\n"]);
    const crossSite = await send(port, 'PUT', PAUSE, { host, 'sec-fetch-site': 'cross-site', authorization: 'Bearer tok-123456' });
    expect(crossSite.status).toBe(403);
    expect(await syncPaused()).toBe(false);
  });

  it('without a token the UI is read-only: it shows the queues but pauses nothing', async () => {
    const { port } = await daemonWith({});
    const host = `localhost:${port}`;
    expect((await send(port, 'GET', '/queues/api/queues', { host })).status).toBe(200);
    const res = await send(port, 'PUT', PAUSE, { host, origin: `http://${host}` });
    expect([res.status, res.body]).toEqual([403, 'the queue UI is read-only: set FLAREWATCH_QUEUE_UI_TOKEN to pause, retry or remove jobs\n']);
    expect(await syncPaused()).toBe(false);
  });

  it('with a token: none or a wrong one is refused; the login sets a cookie that works; a pause shows in /readyz and /metrics', async () => {
    const { port } = await daemonWith({ FLAREWATCH_QUEUE_UI_TOKEN: 'tok-123456' });
    const host = `127.0.0.1:${port}`;
    const origin = `http://${host}`;
    expect((await send(port, 'GET', '/queues/api/queues', { host })).status).toBe(401);
    expect((await send(port, 'PUT', PAUSE, { host, origin, authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await send(port, 'GET', '/queues/login?token=wrong', { host })).status).toBe(401);
    const login = await send(port, 'GET', '/queues/login?token=tok-123456', { host });
    expect(login.status).toBe(303);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await send(port, 'GET', '/queues/api/queues', { host, cookie })).status).toBe(200);
    expect(await syncPaused()).toBe(false);
    expect((await send(port, 'GET', '/readyz', { host })).body).toBe('ready\n');

    const paused = await send(port, 'PUT', PAUSE, { host, origin, cookie });
    expect(paused.status).toBe(200);
    expect(await syncPaused()).toBe(true);
    const ready = await send(port, 'GET', '/readyz', { host });
    expect([ready.status, ready.body]).toEqual([503, 'queue sync paused\n']);
    const metrics = (await send(port, 'GET', '/metrics', { host })).body;
    expect(metrics).toMatch(/^flarewatch_queue_paused\{queue="sync"\} 1$/m);
    expect(metrics).toMatch(/^flarewatch_queue_paused\{queue="checks"\} 0$/m);
  });

  it('answers a configured public name, and only the names configured when a list is given', async () => {
    const { port } = await daemonWith({ FLAREWATCH_QUEUE_UI_PUBLIC_NAME: 'flarewatch.internal.example' });
    expect((await send(port, 'GET', '/queues/api/queues', { host: `flarewatch.internal.example:${port}` })).status).toBe(200);
    const { port: listed } = await daemonWith({ FLAREWATCH_QUEUE_UI_HOSTS: 'ops.example' });
    expect((await send(listed, 'GET', '/queues/api/queues', { host: 'ops.example' })).status).toBe(200);
    expect((await send(listed, 'GET', '/queues/api/queues', { host: `127.0.0.1:${listed}` })).status).toBe(421);
  });
});

describe.runIf(REDIS)('where the ops server listens (daemon.httpHost)', () => {
  // The whole of 127.0.0.0/8 is loopback on Linux: a server bound to every interface answers on
  // 127.0.0.2, one bound to 127.0.0.1 does not.
  it('loopback only by default', async () => {
    const { port } = await daemonWith({});
    expect((await send(port, 'GET', '/healthz', { host: 'localhost' })).status).toBe(200);
    await expect(send(port, 'GET', '/healthz', { host: 'localhost' }, '127.0.0.2')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('every interface when FLAREWATCH_HTTP_HOST=0.0.0.0 (the image and the manifests)', async () => {
    const { port } = await daemonWith({ FLAREWATCH_HTTP_HOST: '0.0.0.0' });
    expect((await send(port, 'GET', '/healthz', { host: 'localhost' }, '127.0.0.2')).status).toBe(200);
  });
});
