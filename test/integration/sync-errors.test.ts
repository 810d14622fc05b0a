import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudflareRequestError } from '../../src/cloudflare/errors.js';
import { startSimulator, type FaultRule, type Simulator } from '../../src/simulator/index.js';
import type { StreamOutcome } from '../../src/sync/runner.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS, inventorySnapshot } from '../helpers/inventory.js';

// 60 user tokens: two pages, so a fault can hit page 2 after page 1 was stored.
const SIZE = { accounts: 2, userTokens: 60, accountTokensPerAccount: 3, membersPerAccount: 8, billingHistory: 5, ipAccessRules: 5 };
const FAST = { FLAREWATCH_MAX_RETRIES: '2', FLAREWATCH_MALFORMED_RETRIES: '2' };

let db: TestDatabase;
let sim: Simulator;

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ seed: 3, size: SIZE, rateLimit: false });
  const first = await syncAll(testContext(db, sim), { streams: INVENTORY_KINDS });
  expect(first.filter((o) => o.status !== 'succeeded')).toEqual([]);
  sim.stats.reset();
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
});
afterEach(() => {
  sim.setFaults([]);
  sim.credentials.deny.length = 0;
  sim.stats.reset();
});

const run = (streams: string[], env: Record<string, string> = {}) => syncAll(testContext(db, sim, { ...FAST, ...env }), { streams });

function outcome(outcomes: StreamOutcome[], stream: string) {
  const o = outcomes.find((x) => x.stream === stream);
  if (!o || !('counts' in o)) throw new Error(`no outcome for ${stream}`);
  return o;
}
function failure(outcomes: StreamOutcome[], stream: string): CloudflareRequestError {
  const o = outcome(outcomes, stream);
  if (o.status !== 'failed') throw new Error(`${stream} did not fail`);
  expect(o.error).toBeInstanceOf(CloudflareRequestError);
  return o.error as CloudflareRequestError;
}
async function lastRun(stream: string) {
  const { rows } = await db.pool.query(`select * from sync_runs where stream = $1 order by id desc limit 1`, [stream]);
  return rows[0] as Record<string, unknown>;
}
async function lastError(stream: string) {
  const { rows } = await db.pool.query(`select last_error from sync_state where stream = $1`, [stream]);
  return (rows[0] as { last_error: string | null }).last_error;
}
const faults = (...rules: FaultRule[]) => sim.setFaults(rules);

describe('credentials', () => {
  it('an unknown token is refused once, at identification: every stream fails with one line naming the credential; nothing stored changes', async () => {
    const before = await inventorySnapshot(db.pool);
    const outcomes = await run(INVENTORY_KINDS, { CLOUDFLARE_API_TOKEN: 'unknown-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
    expect(outcomes.length).toBeGreaterThan(10);
    for (const o of outcomes) expect([o.stream, o.status]).toEqual([o.stream, 'failed']);
    const messages = new Set(outcomes.map((o) => (o.status === 'failed' ? o.error.message.replace(/^stream \S+: /, '') : '')));
    expect([...messages]).toHaveLength(1);
    const [message] = [...messages];
    expect(message).toMatch(/^credential "default": refused by Cloudflare \(HTTP 403, code 9109\)/);
    // Asked once (the verify endpoint, then /accounts for an account-owned token), not once per stream, never retried.
    expect(sim.stats.byRoute).toEqual({ 'GET /user/tokens/verify': 1, 'GET /accounts': 1 });
    expect(await lastError('user-tokens:default')).toContain('credential "default": refused');
    const { rows } = await db.pool.query(`select name, status, last_error from credentials where name = 'default'`);
    expect(rows[0]).toMatchObject({ status: 'invalid' });
    expect(await inventorySnapshot(db.pool)).toEqual(before);
  });

  it('a malformed token (Cloudflare: 400, code 6003) is refused the same way', async () => {
    const before = await inventorySnapshot(db.pool);
    const outcomes = await run(['user-tokens', 'accounts'], { CLOUDFLARE_API_TOKEN: 'too-short' });
    for (const o of outcomes) expect(o.status).toBe('failed');
    expect(outcome(outcomes, 'user-tokens:default').status === 'failed' && outcome(outcomes, 'user-tokens:default')).toBeTruthy();
    const o = outcome(outcomes, 'accounts:default');
    expect(o.status === 'failed' && o.error.message).toMatch(/credential "default": refused by Cloudflare \(HTTP 400, code 6003\): Invalid request headers/);
    expect(await inventorySnapshot(db.pool)).toEqual(before);
  });

  it('a wrong global API key (Cloudflare: 403, code 9103) is refused, not mistaken for a missing permission', async () => {
    const outcomes = await run(['user'], { CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_EMAIL: sim.credentials.email, CLOUDFLARE_API_KEY: 'wrong-key-0123456789abcdefghij' });
    const o = outcome(outcomes, 'user:default');
    expect(o.status === 'failed' && o.error.message).toMatch(/credential "default": refused by Cloudflare \(HTTP 403, code 9103\)/);
  });

  it('10001 "Internal server error" on an HTTP 400 is a server problem: retried later, no hint about credentials', async () => {
    faults({ route: 'GET /user/tokens', kind: 'error', status: 400, code: 10001, message: 'Internal server error', match: { page: '2' } });
    const err = failure(await run(['user-tokens']), 'user-tokens:default');
    expect(err).toMatchObject({ kind: 'server', status: 400, codes: [10001], retryable: true });
    expect(err.message).toMatch(/Internal server error$/);
    expect(err.message).not.toMatch(/ — check|credential|CLOUDFLARE_API/i);
  });

  it('a 403 on one stream fails only that stream, naming the missing permission; all others succeed', async () => {
    const before = await inventorySnapshot(db.pool);
    sim.credentials.deny.push('GET /accounts/:account_id/members');
    const outcomes = await run(INVENTORY_KINDS);
    const failed = outcomes.filter((o) => o.status === 'failed').map((o) => o.stream).sort();
    expect(failed).toEqual(sim.world.accounts.map((a) => `members:${a.id}`).sort());
    expect(outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(outcomes.length - failed.length);
    const accountId = sim.world.accounts[0]!.id;
    const err = failure(outcomes, `members:${accountId}`);
    expect(err).toMatchObject({ kind: 'permission', status: 403, page: 1, retryable: false });
    expect(err.message).toContain(`stream members:${accountId}: GET /accounts/${accountId}/members page 1 failed (HTTP 403`);
    expect(err.message).toContain('needs "Account Settings Read"');
    expect(await lastRun(`members:${accountId}`)).toMatchObject({ status: 'failed', requests: 1 });
    // Members stored by the earlier sync are kept, not marked deleted.
    expect(await inventorySnapshot(db.pool)).toEqual(before);
  });
});

describe('transient failures are retried', () => {
  it('5xx twice, then OK: retried by the client; the run counts every attempt; new data is stored', async () => {
    const before = await inventorySnapshot(db.pool);
    const added = sim.world.addUserToken({ name: 'added before the 5xx' });
    faults({ route: 'GET /user/tokens', kind: '5xx', status: 502, count: 2, match: { page: '2' } });
    const o = outcome(await run(['user-tokens']), 'user-tokens:default');
    expect(o.status).toBe('succeeded');
    expect(sim.stats.count('GET /user/tokens')).toBe(2 + 2);
    expect(o.counts).toMatchObject({ requests: 4, pages: 2, rowsUpserted: 1 });
    expect(await lastRun('user-tokens:default')).toMatchObject({ status: 'succeeded', requests: 4, pages: 2, error: null });
    // Correctly advanced: exactly one new row, every other row as it was.
    const after = await inventorySnapshot(db.pool);
    const added_rows = after.api_tokens!.filter((t) => !before.api_tokens!.includes(t));
    expect(added_rows).toHaveLength(1);
    expect(added_rows[0]).toContain(added.id);
    expect({ ...after, api_tokens: after.api_tokens!.filter((t) => !t.includes(added.id)) }).toEqual(before);
    sim.world.removeToken(added.id);
    expect(outcome(await run(['user-tokens']), 'user-tokens:default').counts.rowsMarkedDeleted).toBe(1);
  });

  it('a 429 burst with Retry-After: 1 is waited out, then succeeds', async () => {
    const before = await inventorySnapshot(db.pool);
    faults({ route: 'GET /accounts', kind: '429', count: 2, retryAfter: 1 });
    const started = Date.now();
    const o = outcome(await run(['accounts']), 'accounts:default');
    const elapsed = Date.now() - started;
    expect(o.status).toBe('succeeded');
    expect(o.counts.requests).toBe(3);
    expect(sim.stats.byStatus[429]).toBe(2);
    // Two waits of Retry-After (1 s each); the client's own backoff would be at most 0.5 s + 1 s.
    expect(elapsed).toBeGreaterThanOrEqual(1_950);
    expect(await inventorySnapshot(db.pool)).toEqual(before);
  });

  it('a connection reset is retried', async () => {
    const before = await inventorySnapshot(db.pool);
    faults({ route: 'GET /user/tokens', kind: 'reset', count: 1, match: { page: '2' } });
    const o = outcome(await run(['user-tokens']), 'user-tokens:default');
    expect(o).toMatchObject({ status: 'succeeded', counts: { requests: 3, pages: 2 } });
    expect(sim.stats.byStatus[0]).toBe(1);
    expect(await inventorySnapshot(db.pool)).toEqual(before);
  });

  for (const kind of ['malformed', 'truncated'] as const) {
    it(`a ${kind} JSON body is retried (not by the client: by our own retry), then succeeds`, async () => {
      const before = await inventorySnapshot(db.pool);
      faults({ route: 'GET /user/tokens', kind, count: 2, match: { page: '2' } });
      const o = outcome(await run(['user-tokens']), 'user-tokens:default');
      expect(o).toMatchObject({ status: 'succeeded', counts: { requests: 4, pages: 2 } });
      expect(await inventorySnapshot(db.pool)).toEqual(before);
    });

    it(`a permanently ${kind} body fails the stream naming 'malformed' and the page; nothing is lost`, async () => {
      const before = await inventorySnapshot(db.pool);
      const gone = sim.world.removeToken(sim.world.userTokens[3]!.id);
      faults({ route: 'GET /user/tokens', kind, match: { page: '2' } });
      const outcomes = await run(['user-tokens']);
      const err = failure(outcomes, 'user-tokens:default');
      expect(err).toMatchObject({ kind: 'malformed', page: 2, retryable: true });
      expect(err.message).toContain('stream user-tokens:default: GET /user/tokens page 2 failed');
      expect(err.message).toContain('malformed');
      expect(err.message).toContain('invalid JSON');
      // Page 1, then page 2 three times (FLAREWATCH_MALFORMED_RETRIES=2).
      expect(sim.stats.count('GET /user/tokens')).toBe(4);
      expect(await lastRun('user-tokens:default')).toMatchObject({ status: 'failed', requests: 4, pages: 1, error: err.message });
      // The removed token is not marked deleted by an incomplete walk.
      expect(await inventorySnapshot(db.pool)).toEqual(before);
      sim.world.userTokens.splice(3, 0, gone);
      sim.setFaults([]);
      expect(outcome(await run(['user-tokens']), 'user-tokens:default').status).toBe('succeeded');
      expect(await inventorySnapshot(db.pool)).toEqual(before);
    });
  }

  it('an HTML 502 page from the edge is retried, then succeeds', async () => {
    const before = await inventorySnapshot(db.pool);
    faults({ route: 'GET /user/tokens', kind: 'html', count: 1 });
    const o = outcome(await run(['user-tokens']), 'user-tokens:default');
    expect(o).toMatchObject({ status: 'succeeded', counts: { requests: 3, pages: 2 } });
    expect(await inventorySnapshot(db.pool)).toEqual(before);
  });

  it('a permanent HTML 502 fails with a short quote of the page, not the whole HTML', async () => {
    const before = await inventorySnapshot(db.pool);
    faults({ route: 'GET /user/tokens', kind: 'html' });
    const err = failure(await run(['user-tokens'], { FLAREWATCH_MAX_RETRIES: '1' }), 'user-tokens:default');
    expect(err).toMatchObject({ kind: 'server', status: 502, page: 1, retryable: true });
    expect(err.message).toContain('stream user-tokens:default: GET /user/tokens page 1 failed (HTTP 502)');
    expect(err.message).toContain('Bad gateway');
    expect(err.message.length).toBeLessThan(400);
    expect(err.message).not.toContain('cf-footer');
    expect(err.message).not.toMatch(/<[a-z!]/i);
    expect(await lastError('user-tokens:default')).toBe(err.message);
    expect(await inventorySnapshot(db.pool)).toEqual(before);
  });
});

describe('a listing that serves the same page again', () => {
  it('stops with a repeated-page error instead of looping; bounded requests; nothing lost', async () => {
    const local = await startSimulator({ seed: 5, size: { accounts: 60, accountTokensPerAccount: 0, membersPerAccount: 1, userTokens: 1 }, rateLimit: false });
    const localDb = await createTestDatabase();
    try {
      const ctx = () => testContext(localDb, local, FAST);
      expect(outcome(await syncAll(ctx(), { streams: ['accounts'] }), 'accounts:default').status).toBe('succeeded');
      const before = await inventorySnapshot(localDb.pool);
      local.stats.reset();
      local.setFaults([{ route: 'GET /accounts', kind: 'repeat-page' }]);
      const err = failure(await syncAll(ctx(), { streams: ['accounts'] }), 'accounts:default');
      expect(err).toMatchObject({ kind: 'repeated-page', page: 2, retryable: false });
      expect(err.message).toContain('stream accounts:default: GET /accounts page 2 failed');
      expect(err.message).toMatch(/stopping instead of looping/);
      expect(local.stats.total).toBeLessThanOrEqual(3);
      expect(await inventorySnapshot(localDb.pool)).toEqual(before);
    } finally {
      await local.close();
      await localDb.drop();
    }
  });
});
