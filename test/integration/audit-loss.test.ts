import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type AuditSettings, type FaultRule, startSimulator, type Simulator, type WorldSize } from '../../src/simulator/index.js';
import type { StreamOutcome } from '../../src/sync/runner.js';
import { syncAll } from '../../src/sync/sync-all.js';
import {
  checkpointOf, dbDigest, dbIds, duplicateCheck, keysetRequests, outcomeOf, simDigest, simIds, simTimes, succeeded,
  V1_ACCOUNT_ROUTE, V2_ROUTE,
} from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// Cloudflare behaviour the archive must survive without losing an entry, each as a simulator option
// (issue "No silent loss"). Where cheap, a control shows the behaviour really loses entries for a
// naive client (page-numbered v1, a 400 taken as the end), so each test would fail on that code.

const PAGE = 100;
const T0 = Date.parse('2026-03-01T00:00:00Z');

interface Harness { db: TestDatabase; sim: Simulator; ctx: TestContext; account: string; v1: string; v2: string }

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function harness(size: Partial<WorldSize>, faults: FaultRule[] = [], audit?: AuditSettings, env: Record<string, string> = {}): Promise<Harness> {
  const sim = await startSimulator({ seed: 44, size: { accounts: 1, auditDays: 5, ...size }, rateLimit: false, faults, audit, now: () => T0 });
  const db = await createTestDatabase();
  cleanups.push(() => db.drop(), () => sim.close());
  const ctx = testContext(db, sim, { LOG_LEVEL: 'info', FLAREWATCH_AUDIT_PAGE_SIZE: String(PAGE), FLAREWATCH_MAX_RETRIES: '1', ...env });
  // 3 minutes after the end of the history: with the 2-minute lag the first window holds everything.
  ctx.now = () => new Date(T0 + 3 * 60_000);
  const account = sim.world.accounts[0]!.id;
  return { db, sim, ctx, account, v1: `account-audit-v1:${account}`, v2: `account-audit:${account}` };
}

const failed = (o: StreamOutcome) => {
  if (o.status !== 'failed') throw new Error(`${o.stream} did not fail: ${o.status}`);
  return o;
};

/** A client that pages v1 by page number, as flarewatch did before: the control for the ageing case. */
async function pageNumberWalk(sim: Simulator, account: string): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let page = 1; ; page++) {
    const q = new URLSearchParams({ since: '2000-01-01T00:00:00Z', before: new Date(T0 + 60_000).toISOString(), direction: 'asc', per_page: String(PAGE), page: String(page) });
    const res = await fetch(`${sim.url}/accounts/${account}/audit_logs?${q}`, { headers: { authorization: `Bearer ${sim.credentials.apiToken}` } });
    if (res.status === 400) return seen;
    const body = (await res.json()) as { result: Array<{ id: string }> };
    for (const e of body.result) seen.add(e.id);
    if (body.result.length < PAGE) return seen;
  }
}

describe('v1 entries ageing out of Cloudflare while a backfill walks', () => {
  it('a page-numbered walk skips entries still served; the walk by time archives every one of them', async () => {
    const audit = { ageOutPerRequest: 7 };
    const control = await harness({ accountAuditV1Entries: 2000 }, [], audit);
    const naive = await pageNumberWalk(control.sim, control.account);
    const stillServed = simIds(control.sim, 'account-v1', control.account);
    expect(stillServed.filter((id) => !naive.has(id)).length, 'the page-numbered walk loses entries').toBeGreaterThan(20);

    const h = await harness({ accountAuditV1Entries: 2000 }, [], audit);
    const o = succeeded(outcomeOf(await syncAll(h.ctx, { streams: [h.v1] }), h.v1));
    const archived = await dbIds(h.db.pool, 'account-v1', h.account);
    const served = simIds(h.sim, 'account-v1', h.account);
    // Every entry Cloudflare still holds is archived, and more: the oldest were archived before they aged out.
    expect(served.filter((id) => !archived.has(id))).toEqual([]);
    expect(h.sim.world.auditStream('account-v1', h.account).droppedCount()).toBeGreaterThan(50);
    expect(archived.size).toBe(o.counts.rowsUpserted);
    expect(archived.size).toBeGreaterThan(served.length);
    const dup = await duplicateCheck(h.db.pool);
    expect(dup.rows).toBe(dup.distinct);
  });

  it('a walk resumed hours later, after more entries aged out, still misses none that remain', async () => {
    const h = await harness({ accountAuditV1Entries: 1500 }, [{ route: V1_ACCOUNT_ROUTE, kind: 'malformed', skip: 5 }]);
    failed(outcomeOf(await syncAll(h.ctx, { streams: [h.v1] }), h.v1));
    // Meanwhile the retention edge moved past what the interrupted walk stored, and beyond.
    const stored = (await dbIds(h.db.pool, 'account-v1', h.account)).size;
    h.sim.world.auditStream('account-v1', h.account).dropOldest(stored + 40);
    h.sim.setFaults([]);
    succeeded(outcomeOf(await syncAll(h.ctx, { streams: [h.v1] }), h.v1));
    const archived = await dbIds(h.db.pool, 'account-v1', h.account);
    expect(simIds(h.sim, 'account-v1', h.account).filter((id) => !archived.has(id))).toEqual([]);
  });
});

describe('a stray HTTP 400 in the middle of a v1 listing', () => {
  for (const [code, message] of [[1004, 'Bad request'], [10001, 'Internal server error']] as const) {
    it(`(code ${code}) is asked again, never taken as the end of the listing; nothing is lost`, async () => {
      const h = await harness({ accountAuditV1Entries: 500 }, [{ route: V1_ACCOUNT_ROUTE, kind: 'error', status: 400, code, message, skip: 1, count: 1 }]);
      const o = succeeded(outcomeOf(await syncAll(h.ctx, { streams: [h.v1] }), h.v1));
      const pages = keysetRequests(simTimes(h.sim, 'account-v1', h.account), PAGE);
      expect(o.counts).toMatchObject({ requests: pages + 1, pages, rowsUpserted: 500 });
      expect(await dbDigest(h.db.pool, 'account-v1', h.account)).toEqual(simDigest(h.sim, 'account-v1', h.account));
      expect(h.sim.stats.byStatus[400]).toBe(1);
    });
  }

  it('a 400 that persists fails the walk without moving its checkpoint; the next run completes exactly', async () => {
    const h = await harness({ accountAuditV1Entries: 500 }, [{ route: V1_ACCOUNT_ROUTE, kind: 'error', status: 400, code: 1004, message: 'Bad request', skip: 2 }]);
    const o = failed(outcomeOf(await syncAll(h.ctx, { streams: [h.v1] }), h.v1));
    expect(o.error.message).toMatch(new RegExp(`stream ${h.v1}: GET /accounts/${h.account}/audit_logs page since \\S+ failed \\(HTTP 400, Cloudflare code 1004\\): Bad request$`));
    const cp = await checkpointOf(h.db.pool, h.v1);
    expect(cp!.watermark).toBeUndefined();
    expect(cp!.window.pages).toBe(2);
    h.sim.setFaults([]);
    succeeded(outcomeOf(await syncAll(h.ctx, { streams: [h.v1] }), h.v1));
    expect(await dbDigest(h.db.pool, 'account-v1', h.account)).toEqual(simDigest(h.sim, 'account-v1', h.account));
  });
});

describe('an instant holding more entries than a page', () => {
  it('is paged on its own; the 400 past its end is proven with one request at another page size', async () => {
    const h = await harness({ accountAuditV1Entries: 150 });
    const at = T0 - 3 * 3_600_000;
    // Exactly two pages' worth at one instant: the page past them answers 400 (the v1 quirk).
    h.sim.world.auditStream('account-v1', h.account).append(Array.from({ length: 2 * PAGE }, () => ({ time: new Date(at).toISOString(), action: { type: 'update' } })), { visibleAt: T0 });
    const o = succeeded(outcomeOf(await syncAll(h.ctx, { streams: [h.v1] }), h.v1));
    expect(o.counts.rowsUpserted).toBe(150 + 2 * PAGE);
    expect(await dbDigest(h.db.pool, 'account-v1', h.account)).toEqual(simDigest(h.sim, 'account-v1', h.account));
    const instant = h.sim.stats.log.filter((l) => l.route === V1_ACCOUNT_ROUTE && l.query.before === new Date(at + 1).toISOString());
    expect(instant.map((l) => [l.query.per_page, l.query.page, l.status])).toEqual([
      [String(PAGE), '1', 200], [String(PAGE), '2', 200], [String(PAGE), '3', 400], [String(PAGE - 1), '3', 200],
    ]);
  });

  it('a 400 inside an instant that is not its end fails the walk (never taken as the end); the rerun completes exactly', async () => {
    const h = await harness({ accountAuditV1Entries: 150 });
    const at = T0 - 3 * 3_600_000;
    h.sim.world.auditStream('account-v1', h.account).append(Array.from({ length: 250 }, () => ({ time: new Date(at).toISOString(), action: { type: 'update' } })), { visibleAt: T0 });
    h.sim.setFaults([{ route: V1_ACCOUNT_ROUTE, kind: 'error', status: 400, code: 1001, message: 'page 2 is out of range', match: { page: '2' }, count: 1 }]);
    const o = failed(outcomeOf(await syncAll(h.ctx, { streams: [h.v1] }), h.v1));
    expect(o.error.message).toContain('did not prove that was the end');
    succeeded(outcomeOf(await syncAll(h.ctx, { streams: [h.v1] }), h.v1));
    expect(await dbDigest(h.db.pool, 'account-v1', h.account)).toEqual(simDigest(h.sim, 'account-v1', h.account));
  });
});

describe('a connection cut in the middle of a body', () => {
  it('is retried like a reset (v1 and v2); nothing lost, nothing doubled', async () => {
    const h = await harness({ accountAuditV1Entries: 500, accountAuditEntries: 500 }, [
      { route: V1_ACCOUNT_ROUTE, kind: 'cut-body', skip: 2, count: 1 },
      { route: V2_ROUTE, kind: 'cut-body', skip: 1, count: 2 },
    ]);
    const outcomes = await syncAll(h.ctx, { streams: [h.v1, h.v2] });
    expect(succeeded(outcomeOf(outcomes, h.v2)).counts.requests).toBe(5 + 2);
    succeeded(outcomeOf(outcomes, h.v1));
    expect(await dbDigest(h.db.pool, 'account-v1', h.account)).toEqual(simDigest(h.sim, 'account-v1', h.account));
    expect(await dbDigest(h.db.pool, 'account-v2', h.account)).toEqual(simDigest(h.sim, 'account-v2', h.account));
  });

  it('a body that keeps being cut fails the stream saying so', async () => {
    const h = await harness({ accountAuditEntries: 300 }, [{ route: V2_ROUTE, kind: 'cut-body', skip: 1 }]);
    const o = failed(outcomeOf(await syncAll(h.ctx, { streams: [h.v2] }), h.v2));
    expect(o.error.message).toMatch(/connection closed mid-body/);
    expect(o.error.message).toContain(`stream ${h.v2}: GET /accounts/${h.account}/logs/audit page #2 (cursor)`);
  });
});

describe('an entry dated in the year 2999', () => {
  it('is quarantined, never archived, and never becomes the position a resumed walk starts from', async () => {
    const h = await harness({ accountAuditEntries: 800 }, [
      { route: V2_ROUTE, kind: 'future-entry', skip: 1, count: 1 },
      { route: V2_ROUTE, kind: 'malformed', skip: 4 },
    ]);
    failed(outcomeOf(await syncAll(h.ctx, { streams: [h.v2] }), h.v2));
    const q = (await h.db.pool.query<{ reason: string; raw_text: string }>(`select reason, raw_text from audit_log_quarantine`)).rows;
    expect(q).toHaveLength(1);
    expect(q[0]!.reason).toMatch(/is dated 2999-.*implausibly far outside the window/);
    const { rows } = await h.db.pool.query(`select count(*)::int as n from audit_logs where event_time > now() + interval '1 day'`);
    expect(rows[0].n).toBe(0);
    const cp = await checkpointOf(h.db.pool, h.v2);
    expect(Date.parse(cp!.window.lastTime)).toBeLessThan(T0);
    // The saved cursor is refused now: the restart position comes from a real entry, not the year 2999.
    h.sim.setFaults([{ route: V2_ROUTE, kind: 'error', status: 400, message: 'invalid cursor', match: { cursor: '*' }, count: 1 }]);
    succeeded(outcomeOf(await syncAll(h.ctx, { streams: [h.v2] }), h.v2));
    const restart = h.sim.stats.log.filter((l) => l.route === V2_ROUTE && l.status === 200).at(-1 - 4)!;
    expect(Date.parse(String(restart.query.since))).toBeLessThan(T0);
    const future = JSON.parse(q[0]!.raw_text) as { id: string };
    const archived = await dbIds(h.db.pool, 'account-v2', h.account);
    expect(simIds(h.sim, 'account-v2', h.account).filter((id) => !archived.has(id))).toEqual([future.id]);
  });
});

describe('a saved v2 cursor Cloudflare refuses', () => {
  for (const fault of [
    { kind: 'error', status: 404, message: 'cursor not found' },
    { kind: 'error', status: 410, message: 'cursor expired' },
    { kind: '5xx', status: 503 },
  ] as const) {
    it(`with ${fault.status} restarts the window from the last stored entry instead of failing on every run`, async () => {
      const h = await harness({ accountAuditEntries: 1000 }, [{ route: V2_ROUTE, kind: 'malformed', skip: 4 }]);
      failed(outcomeOf(await syncAll(h.ctx, { streams: [h.v2] }), h.v2));
      // The saved cursor is refused (a 5xx on each of the SDK's attempts); the cursors of the restarted walk are fine.
      h.sim.setFaults([{ route: V2_ROUTE, match: { cursor: '*' }, count: fault.kind === '5xx' ? 2 : 1, ...fault }]);
      const again = succeeded(outcomeOf(await syncAll(h.ctx, { streams: [h.v2] }), h.v2));
      expect(again.counts.rowsUpserted).toBe(600);
      expect(h.ctx.logLines.some((l) => l.includes('saved cursor refused'))).toBe(true);
      expect(await dbDigest(h.db.pool, 'account-v2', h.account)).toEqual(simDigest(h.sim, 'account-v2', h.account));
      const d = await duplicateCheck(h.db.pool);
      expect(d).toEqual({ rows: 1000, distinct: 1000 });
    });
  }
});

describe('answers the definitions allow', () => {
  it('result: null on a list endpoint is an empty list; odd result_info fields do not reject a page that does not need them', async () => {
    const h = await harness({ userTokens: 70 }, [
      { route: 'GET /user/subscriptions', kind: 'null-result' },
      { route: 'GET /user/tokens', kind: 'odd-result-info' },
    ]);
    const outcomes = await syncAll(h.ctx, { streams: ['user-subscriptions', 'user-tokens'] });
    expect(succeeded(outcomeOf(outcomes, 'user-subscriptions:default')).counts).toMatchObject({ rowsFetched: 0, rowsMarkedDeleted: 0 });
    expect(succeeded(outcomeOf(outcomes, 'user-tokens:default')).counts).toMatchObject({ pages: 2, rowsFetched: 70 });
  });

  it('a v2 cursor of the wrong type is an error naming the field, never the end of the listing', async () => {
    // A server whose v2 answer carries `cursor: 7` (a number): the page source must not read it as "no more pages".
    const server = createServer((_req, res) => {
      const result = [{ id: 'e1', action: { time: '2026-02-28T12:00:00Z', type: 'create' } }];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: true, errors: [], result, result_info: { count: '1', cursor: 7 } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const h = await harness({ accountAuditEntries: 10 });
    const ctx = testContext(h.db, { ...h.sim, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4` }, { FLAREWATCH_MAX_RETRIES: '0', FLAREWATCH_MALFORMED_RETRIES: '0' });
    ctx.now = h.ctx.now;
    const o = failed(outcomeOf(await syncAll(ctx, { streams: [h.v2] }), h.v2));
    expect(o.error.message).toContain('result_info.cursor: 7 is not a cursor string');
    // Nothing stored, nothing advanced: the next run asks again.
    expect(await checkpointOf(h.db.pool, h.v2)).toBeNull();
    expect((await dbIds(h.db.pool, 'account-v2', h.account)).size).toBe(0);
  });
});
