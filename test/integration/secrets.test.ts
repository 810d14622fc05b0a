import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, scrub } from '../../src/log.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { StreamOutcome } from '../../src/sync/runner.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS, publicTables } from '../helpers/inventory.js';

// Recognisable values: if any of these shows up anywhere, a secret leaked.
const TOKEN = 'TOKENSECRET_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01';
const KEY = 'KEYSECRET_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb02';
const BAD_TOKEN = 'BADTOKENSECRET_cccccccccccccccccccccccccccccc03';
const BAD_KEY = 'BADKEYSECRET_dddddddddddddddddddddddddddd04';
const SHORT_BAD_TOKEN = 'SHORTSECRET!05';
const SECRETS = [TOKEN, KEY, BAD_TOKEN, BAD_KEY, SHORT_BAD_TOKEN];
// Each value also without its tail, to catch a truncated echo.
const NEEDLES = SECRETS.flatMap((s) => [s, s.slice(0, 12)]);

const SIZE = { accounts: 2, userTokens: 60, accountTokensPerAccount: 3, membersPerAccount: 6, billingHistory: 3, ipAccessRules: 3 };

let db: TestDatabase;
let sim: Simulator;
const contexts: TestContext[] = [];
const outcomes: StreamOutcome[] = [];

const tokenEnv = (token: string) => ({ CLOUDFLARE_API_TOKEN: token });
const keyEnv = (key: string) => ({ CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_EMAIL: sim.credentials.email, CLOUDFLARE_API_KEY: key });

async function sync(env: Record<string, string>, streams = INVENTORY_KINDS, target: { url: string } = sim) {
  const ctx = testContext(db, { ...sim, url: target.url }, { FLAREWATCH_MAX_RETRIES: '1', FLAREWATCH_MALFORMED_RETRIES: '1', ...env });
  contexts.push(ctx);
  const out = await syncAll(ctx, { streams });
  outcomes.push(...out);
  return out;
}

function leaksIn(text: string): string[] {
  return NEEDLES.filter((n) => text.includes(n));
}

/** A server that answers every request with an error echoing the credentials it was sent (a misbehaving proxy). */
async function startEchoServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const echoed = `${req.headers.authorization ?? ''} ${req.headers['x-auth-key'] ?? ''}`.trim();
    const body = JSON.stringify({ success: false, result: null, messages: [], errors: [{ code: 6003, message: `Invalid request headers: ${echoed}` }] });
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`, server };
}

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ seed: 9, size: SIZE, rateLimit: false, credentials: { apiToken: TOKEN, apiKey: KEY } });
  const failedOf = (out: StreamOutcome[]) => out.filter((o) => o.status === 'failed').map((o) => o.stream);

  // Both schemes, succeeding.
  expect(failedOf(await sync(tokenEnv(TOKEN)))).toEqual([]);
  expect(failedOf(await sync(keyEnv(KEY)))).toEqual([]);
  // Unknown credentials (403 9109 / 9103) and a malformed token (400 6003).
  expect(failedOf(await sync(tokenEnv(BAD_TOKEN))).length).toBeGreaterThan(10);
  expect(failedOf(await sync(keyEnv(BAD_KEY))).length).toBeGreaterThan(10);
  expect(failedOf(await sync(tokenEnv(SHORT_BAD_TOKEN), ['user', 'user-tokens']))).toEqual(['user:default', 'user-tokens:default']);
  // A permission denied on one stream, with each scheme.
  sim.credentials.deny.push('GET /user/tokens');
  expect(failedOf(await sync(tokenEnv(TOKEN), ['user-tokens']))).toEqual(['user-tokens:default']);
  expect(failedOf(await sync(keyEnv(KEY), ['user-tokens']))).toEqual(['user-tokens:default']);
  sim.credentials.deny.length = 0;
  // 5xx and an HTML page, permanent, with each scheme.
  sim.setFaults([{ route: 'GET /user/tokens', kind: '5xx', match: { page: '2' } }, { route: 'GET /accounts', kind: 'html' }]);
  expect(failedOf(await sync(tokenEnv(TOKEN), ['accounts', 'user-tokens'])).sort()).toEqual(['accounts:default', 'user-tokens:default']);
  expect(failedOf(await sync(keyEnv(KEY), ['accounts', 'user-tokens'])).sort()).toEqual(['accounts:default', 'user-tokens:default']);
  sim.setFaults([]);
  // A server that echoes the credential it received into its error message.
  const echo = await startEchoServer();
  try {
    expect(failedOf(await sync(tokenEnv(TOKEN), ['user'], echo))).toEqual(['user:default']);
    expect(failedOf(await sync(keyEnv(KEY), ['user'], echo))).toEqual(['user:default']);
  } finally {
    echo.server.close();
  }
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('no secret appears anywhere', () => {
  it('the syncs did run and did log (the scans below are not of nothing)', async () => {
    const lines = contexts.flatMap((c) => c.logLines);
    expect(lines.length).toBeGreaterThan(100);
    expect(outcomes.filter((o) => o.status === 'failed').length).toBeGreaterThan(30);
    const { rows } = await db.pool.query(`select count(*)::int as n from api_tokens`);
    expect(rows[0].n).toBeGreaterThan(60);
    // The echo server really echoed: the error names the header it complained about.
    const echoed = outcomes.filter((o) => o.status === 'failed' && o.error.message.includes('Invalid request headers: Bearer'));
    expect(echoed).toHaveLength(1);
  });

  it('not in any log line', () => {
    const leaks = contexts.flatMap((c) => c.logLines).filter((line) => leaksIn(line).length > 0);
    expect(leaks).toEqual([]);
  });

  it('not in any error message, stack or serialised outcome', () => {
    for (const o of outcomes) {
      if (o.status !== 'failed') continue;
      expect(leaksIn(o.error.message), o.stream).toEqual([]);
      expect(leaksIn(o.error.stack ?? ''), o.stream).toEqual([]);
      expect(leaksIn(String(o.error)), o.stream).toEqual([]);
      expect(leaksIn(JSON.stringify({ ...o, error: { ...o.error } })), o.stream).toEqual([]);
    }
  });

  it('not in sync_runs.error nor sync_state.last_error', async () => {
    const runs = await db.pool.query<{ error: string }>(`select error from sync_runs where error is not null`);
    expect(runs.rows.length).toBeGreaterThan(30);
    for (const r of runs.rows) expect(leaksIn(r.error)).toEqual([]);
    const states = await db.pool.query<{ last_error: string }>(`select last_error from sync_state where last_error is not null`);
    expect(states.rows.length).toBeGreaterThan(10);
    for (const r of states.rows) expect(leaksIn(r.last_error)).toEqual([]);
  });

  it('not in any row of any table', async () => {
    const tables = await publicTables(db.pool);
    expect(tables).toEqual(expect.arrayContaining(['api_tokens', 'sync_runs', 'sync_state', 'users', 'account_members']));
    for (const table of tables) {
      const { rows } = await db.pool.query<{ t: string }>(`select t::text as t from ${table} t`);
      const hits = rows.filter((r) => leaksIn(r.t).length > 0);
      expect(hits, table).toEqual([]);
    }
  });
});

describe('log scrubbing', () => {
  const SECRET = 'hunter2-very-secret-value';

  function capture(secrets: string[]) {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _e, cb) { lines.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });
    return { log: createLogger({ level: 'debug', format: 'json', secrets, destination }), lines };
  }

  it('scrub replaces a secret in a string, an object field (nested, in arrays) and an Error', () => {
    expect(scrub(`Bearer ${SECRET} rejected`, [SECRET])).toBe('Bearer [REDACTED] rejected');
    expect(scrub({ a: { b: [`x${SECRET}y`, 3] }, n: 1 }, [SECRET])).toEqual({ a: { b: ['x[REDACTED]y', 3] }, n: 1 });
    const err = Object.assign(new Error(`token ${SECRET} is invalid`), { detail: SECRET });
    const out = scrub(err, [SECRET]) as unknown as Record<string, string>;
    expect(out.message).toBe('token [REDACTED] is invalid');
    expect(out.stack).toContain('token [REDACTED] is invalid');
    expect(out.detail).toBe('[REDACTED]');
    expect(JSON.stringify(out)).not.toContain(SECRET);
    // Nothing to scrub: the value comes back as it was.
    expect(scrub('plain', [])).toBe('plain');
  });

  it('createLogger redacts a secret in the message, in interpolated arguments, in fields and in errors', () => {
    const { log, lines } = capture([SECRET]);
    log.info(`message with ${SECRET}`);
    log.info('interpolated %s', SECRET);
    log.info({ detail: `field ${SECRET}`, nested: { list: [SECRET] } }, 'fields');
    log.error({ err: new Error(`error ${SECRET}`) }, 'an error');
    log.error(new Error(`bare error ${SECRET}`));
    log.info({ apiToken: 'not-a-known-value', headers: { authorization: 'Bearer whatever' } }, 'credential-named fields');
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).not.toContain(SECRET);
    expect(lines.join('\n').match(/\[REDACTED\]/g)?.length).toBeGreaterThanOrEqual(8);
    expect(JSON.parse(lines[0]!).msg).toBe('message with [REDACTED]');
    expect(JSON.parse(lines[1]!).msg).toBe('interpolated [REDACTED]');
    expect(JSON.parse(lines[3]!).err.message).toBe('error [REDACTED]');
    expect(JSON.parse(lines[5]!)).toMatchObject({ apiToken: '[REDACTED]', headers: { authorization: '[REDACTED]' } });
    expect(lines.join('\n')).not.toContain('not-a-known-value');
  });
});
