import { afterEach, describe, expect, it } from 'vitest';
import { type FaultRule, startSimulator } from '../../src/simulator/index.js';
import type { StreamOutcome } from '../../src/sync/runner.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { checkpointOf, outcomeOf, V1_USER_ROUTE, V2_ROUTE } from '../helpers/audit.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase } from '../helpers/database.js';

// A hostile or broken API after the headers: a body dripped slower than the deadline, a body far
// larger than a page, a page holding more entries than asked. Each fails the walk with its own
// kind of error; the pages stored before it stay, the checkpoint does not move past them.

const PAGE = 100;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function walk(stream: 'account-audit' | 'user-audit', faults: FaultRule[], env: Record<string, string> = {}) {
  const sim = await startSimulator({ seed: 5, size: { accounts: 1, auditDays: 2, accountAuditEntries: 600, userAuditEntries: 300 }, rateLimit: false, faults, now: () => T0 });
  const db = await createTestDatabase();
  cleanups.push(() => db.drop(), () => sim.close());
  const ctx = testContext(db, sim, { LOG_LEVEL: 'silent', FLAREWATCH_AUDIT_PAGE_SIZE: String(PAGE), FLAREWATCH_MAX_RETRIES: '0', FLAREWATCH_MALFORMED_RETRIES: '0', ...env });
  ctx.now = () => new Date(T0 + 3 * 60_000);
  const name = stream === 'account-audit' ? `account-audit:${sim.world.accounts[0]!.id}` : 'user-audit:default';
  const o = outcomeOf(await syncAll(ctx, { streams: [stream] }), name);
  return { o, name, db };
}

const failure = (o: StreamOutcome) => {
  if (o.status !== 'failed') throw new Error(`${o.stream} did not fail: ${o.status}`);
  return o.error as Error & { kind?: string };
};

describe('hostile response bodies', () => {
  it('a page dripped slower than the deadline fails with the deadline error; the pages before it are kept', async () => {
    const { o, name, db } = await walk('account-audit', [{ route: V2_ROUTE, kind: 'slow-drip', skip: 2, bytes: 1, delayMs: 300 }], { FLAREWATCH_HTTP_TIMEOUT: '1s' });
    const err = failure(o);
    expect(err.kind).toBe('deadline');
    expect(err.message).toContain(`stream ${name}: GET `);
    expect(err.message).toContain('page #3 (cursor) failed (HTTP 200, deadline): the response (headers and body) took longer than 1000 ms');
    expect(await checkpointOf(db.pool, name)).toMatchObject({ window: { pages: 2, entries: 200 } });
  });

  it('a body larger than the limit is refused as it arrives, naming stream, page and the limit', async () => {
    const { o, name, db } = await walk('account-audit', [{ route: V2_ROUTE, kind: 'huge-body', skip: 1, bytes: 8 * 1024 * 1024 }], { FLAREWATCH_HTTP_MAX_BODY_BYTES: String(1024 * 1024) });
    const err = failure(o);
    expect(err.kind).toBe('too-large');
    expect(err.message).toContain(`stream ${name}: GET `);
    expect(err.message).toContain('page #2 (cursor) failed (HTTP 200, too-large): the response body is larger than 1048576 bytes (cloudflare.maxBodyBytes)');
    expect(await checkpointOf(db.pool, name)).toMatchObject({ window: { pages: 1, entries: 100 } });
  });

  it('the byte limit defaults to 32 MiB', async () => {
    const { o } = await walk('account-audit', [{ route: V2_ROUTE, kind: 'huge-body', skip: 1, bytes: 40 * 1024 * 1024 }]);
    expect(failure(o).message).toContain('larger than 33554432 bytes');
  });

  it('a cursor page with more entries than the limit asked is refused', async () => {
    const { o, db, name } = await walk('account-audit', [{ route: V2_ROUTE, kind: 'over-page', skip: 1 }]);
    const err = failure(o);
    expect(err.kind).toBe('too-large');
    expect(err.message).toContain('page #2 (cursor) failed (HTTP 200, too-large): the page holds 101 entries, more than the limit=100 asked for');
    expect(await checkpointOf(db.pool, name)).toMatchObject({ window: { pages: 1, entries: 100 } });
  });

  it('a v1 page of 100k entries is refused as over the page size (no stack overflow)', async () => {
    const { o } = await walk('user-audit', [{ route: V1_USER_ROUTE, kind: 'over-page', entries: 100_000 }], { FLAREWATCH_HTTP_MAX_BODY_BYTES: String(128 * 1024 * 1024) });
    const err = failure(o);
    expect(err.kind).toBe('too-large');
    expect(err.message).toMatch(/the page holds 100000 entries, more than the per_page=100 asked for/);
  });
});
