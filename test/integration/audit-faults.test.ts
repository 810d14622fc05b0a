import { afterEach, describe, expect, it } from 'vitest';
import { type FaultRule, startSimulator, type Simulator, type WorldSize } from '../../src/simulator/index.js';
import type { StreamOutcome } from '../../src/sync/runner.js';
import { syncAll } from '../../src/sync/sync-all.js';
import {
  canonical, checkpointOf, dbDigest, dbIds, duplicateCheck, expectedRequests, keysetPages, keysetRequests, outcomeOf, runsOf, simDigest, simIds, simTimes, succeeded,
  V1_ACCOUNT_ROUTE, V1_USER_ROUTE, V2_ROUTE,
} from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const PAGE = 100;
const T0 = Date.parse('2026-03-01T00:00:00Z');

interface Harness { db: TestDatabase; sim: Simulator; ctx: TestContext; account: string }

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function harness(size: Partial<WorldSize>, faults: FaultRule[]): Promise<Harness> {
  const clock = T0;
  const sim = await startSimulator({ seed: 21, size: { accounts: 1, auditDays: 5, ...size }, rateLimit: false, faults, now: () => clock });
  const db = await createTestDatabase();
  cleanups.push(() => db.drop(), () => sim.close());
  // 3 minutes after the end of the history: with the 2-minute lag the first window holds everything.
  const ctx = testContext(db, sim, { LOG_LEVEL: 'info', FLAREWATCH_AUDIT_PAGE_SIZE: String(PAGE) });
  ctx.now = () => new Date(T0 + 3 * 60_000);
  return { db, sim, ctx, account: sim.world.accounts[0]!.id };
}

const failed = (o: StreamOutcome) => {
  if (o.status !== 'failed') throw new Error(`${o.stream} did not fail: ${o.status}`);
  return o;
};

describe('transient faults', () => {
  it('5xx, a 429 burst with Retry-After, resets, malformed, truncated and HTML pages all recover; the archive is exact', async () => {
    const v2Faults: FaultRule[] = [
      { route: V2_ROUTE, kind: '5xx', status: 503, skip: 3, count: 2 },
      { route: V2_ROUTE, kind: '429', retryAfter: 1, skip: 10, count: 3 },
      { route: V2_ROUTE, kind: 'reset', skip: 20, count: 1 },
      { route: V2_ROUTE, kind: 'malformed', skip: 30, count: 1 },
      { route: V2_ROUTE, kind: 'truncated', skip: 40, count: 1 },
      { route: V2_ROUTE, kind: 'html', status: 502, skip: 50, count: 1 },
    ];
    const v1Faults: FaultRule[] = [
      { route: V1_USER_ROUTE, kind: '5xx', status: 500, skip: 2, count: 1 },
      { route: V1_USER_ROUTE, kind: '429', retryAfter: 1, skip: 5, count: 2 },
      { route: V1_USER_ROUTE, kind: 'reset', skip: 8, count: 1 },
      { route: V1_USER_ROUTE, kind: 'malformed', skip: 12, count: 1 },
      { route: V1_USER_ROUTE, kind: 'truncated', skip: 16, count: 1 },
      { route: V1_USER_ROUTE, kind: 'html', status: 504, skip: 20, count: 1 },
    ];
    const h = await harness({ accountAuditEntries: 6000, userAuditEntries: 3000 }, [...v2Faults, ...v1Faults]);
    const outcomes = await syncAll(h.ctx, { streams: ['account-audit', 'user-audit'] });
    const v2 = succeeded(outcomeOf(outcomes, `account-audit:${h.account}`));
    const v1 = succeeded(outcomeOf(outcomes, 'user-audit:default'));

    // Each injected fault costs exactly one extra request, no more (no runaway retries) and no less.
    const extra = (rules: FaultRule[]) => rules.reduce((s, r) => s + r.count!, 0);
    const v1Pages = keysetRequests(simTimes(h.sim, 'user-v1'), PAGE);
    expect(v2.counts).toMatchObject({ requests: expectedRequests(6000, PAGE) + extra(v2Faults), pages: 60, rowsFetched: 6000, rowsUpserted: 6000 });
    expect(v1.counts).toMatchObject({ requests: v1Pages + extra(v1Faults), pages: v1Pages, rowsFetched: 3000, rowsUpserted: 3000 });
    const runs = await runsOf(h.db.pool);
    expect(runs.find((r) => r.stream === v2.stream)).toMatchObject({ status: 'succeeded', requests: 60 + 9, pages: 60, error: null });
    expect(runs.find((r) => r.stream === 'user-audit:default')).toMatchObject({ status: 'succeeded', requests: v1Pages + 7, pages: v1Pages, error: null });
    // The simulator saw the same: every fault served once (and v1, walked by time, never a 400 past the end).
    expect(h.sim.stats.byStatus).toMatchObject({ 0: 2, 429: 5, 500: 1, 502: 1, 503: 2, 504: 1 });
    expect(h.sim.stats.byStatus[400]).toBeUndefined();

    expect(await dbDigest(h.db.pool, 'account-v2', h.account)).toEqual(simDigest(h.sim, 'account-v2', h.account));
    expect(await dbDigest(h.db.pool, 'user-v1')).toEqual(simDigest(h.sim, 'user-v1'));
    expect(await duplicateCheck(h.db.pool)).toEqual({ rows: 9000, distinct: 9000 });
  });
});

describe('poisoned entries', () => {
  it('land in the quarantine with reason and raw text, are counted, and the walk goes on', async () => {
    // Two consecutive pages (4 and 5) each get one poisoned entry: one loses its id, the other its timestamp.
    const h = await harness({ accountAuditV1Entries: 1000 }, [{ route: V1_ACCOUNT_ROUTE, kind: 'poison-entry', skip: 3, count: 2 }]);
    const stream = `account-audit-v1:${h.account}`;
    const o = succeeded(outcomeOf(await syncAll(h.ctx, { streams: [stream] }), stream));
    expect(o.counts).toMatchObject({ rowsQuarantined: 2 });
    const [run] = await runsOf(h.db.pool, stream);
    expect(run).toMatchObject({ status: 'succeeded', rows_quarantined: 2, rows_upserted: o.counts.rowsUpserted });
    const pages = keysetPages(simTimes(h.sim, 'account-v1', h.account), PAGE);

    const q = (await h.db.pool.query<{ stream: string; position: string; reason: string; raw_text: string }>(
      `select stream, position, reason, raw_text from audit_log_quarantine order by id`,
    )).rows;
    const times = simTimes(h.sim, 'account-v1', h.account);
    // Quarantined from the 4th and 5th keyset pages, each named by where it asked from.
    expect(q.map((r) => [r.stream, r.position])).toEqual([3, 4].map((i) => [stream, `since ${new Date(times[pages[i]!.from]!).toISOString()}`]));

    // The archive is the simulator's set less at most the two poisoned entries (one dated at a page's edge
    // is asked for again, clean, by the next page), and the quarantine holds them verbatim.
    const all = [...h.sim.world.auditStream('account-v1', h.account).entries()];
    const archived = await dbIds(h.db.pool, 'account-v1', h.account);
    const missing = all.filter((e) => !archived.has(e.id));
    expect(missing.length).toBeLessThanOrEqual(2);
    expect(o.counts.rowsUpserted).toBe(1000 - missing.length);
    const noId = q.find((r) => r.reason === 'entry has no id');
    const badTime = q.find((r) => r.reason.includes('invalid timestamp'));
    expect(noId, JSON.stringify(q)).toBeDefined();
    expect(badTime, JSON.stringify(q)).toBeDefined();
    const badRaw = JSON.parse(badTime!.raw_text) as Record<string, unknown>;
    expect(badTime!.reason).toBe(`entry ${String(badRaw.id)} has an invalid timestamp: "not-a-date"`);
    const original = all.find((e) => e.id === badRaw.id)!;
    expect(canonical(badRaw)).toBe(canonical({ ...original, when: 'not-a-date' }));
    const noIdRaw = JSON.parse(noId!.raw_text) as Record<string, unknown>;
    expect('id' in noIdRaw).toBe(false);
    const otherOriginal = all.find((e) => { const { id: _i, ...rest } = e; return canonical(rest) === canonical(noIdRaw); });
    expect(otherOriginal).toBeDefined();
    for (const m of missing) expect([badRaw.id, otherOriginal!.id]).toContain(m.id);
    expect(await duplicateCheck(h.db.pool)).toEqual({ rows: 1000 - missing.length, distinct: 1000 - missing.length });
  });
});

describe('a permanently broken page', () => {
  it('v1: fails the stream naming stream, position and status; keeps the last good checkpoint; the next run completes exactly', async () => {
    // Every v1 request after the 4th answers malformed JSON.
    const h = await harness({ accountAuditV1Entries: 1000 }, [{ route: V1_ACCOUNT_ROUTE, kind: 'malformed', skip: 4 }]);
    const stream = `account-audit-v1:${h.account}`;
    const times = simTimes(h.sim, 'account-v1', h.account);
    const pages = keysetPages(times, PAGE);
    const stored = pages[3]!.to; // entries [0, stored) came in pages 1–4
    const position = new Date(times[stored - 1]!).toISOString();
    const o = failed(outcomeOf(await syncAll(h.ctx, { streams: [stream] }), stream));
    expect(o.error.message).toContain(`stream ${stream}: GET /accounts/${h.account}/audit_logs page since ${position} failed (HTTP 200`);
    expect(o.error.message).toMatch(/invalid JSON/);
    // 4 good pages + the bad one tried 1 + FLAREWATCH_MALFORMED_RETRIES (3) times.
    expect(o.counts).toMatchObject({ requests: 8, pages: 4, rowsFetched: stored, rowsUpserted: stored });
    const [run] = await runsOf(h.db.pool, stream);
    expect(run).toMatchObject({ status: 'failed', requests: 8, pages: 4, error: o.error.message });
    const state = (await h.db.pool.query(`select last_error, last_success_at from sync_state where stream = $1`, [stream])).rows[0];
    expect(state).toEqual({ last_error: o.error.message, last_success_at: null });

    // The checkpoint covers pages 1–4 and nothing more: the next ask starts at the last stored entry's time.
    const cp = await checkpointOf(h.db.pool, stream);
    expect(cp).toMatchObject({ window: { next: { since: position }, pages: 4, entries: stored } });
    expect(cp!.window.next.seenAt).toEqual(simIds(h.sim, 'account-v1', h.account).slice(0, stored).filter((_, i) => times[i] === times[stored - 1]));
    expect(cp!.watermark).toBeUndefined();
    const order = simIds(h.sim, 'account-v1', h.account);
    expect([...(await dbIds(h.db.pool, 'account-v1', h.account))].sort()).toEqual(order.slice(0, stored).sort());

    h.sim.setFaults([]);
    const again = succeeded(outcomeOf(await syncAll(h.ctx, { streams: [stream] }), stream));
    // The rest of the keyset walk from the saved position: nothing before it re-read.
    const rest = keysetPages(times, PAGE, pages[4]!.from).length;
    expect(again.counts).toMatchObject({ requests: rest, pages: rest, rowsFetched: 1000 - stored, rowsUpserted: 1000 - stored, resumed: 5 });
    const runs = await runsOf(h.db.pool, stream);
    expect(runs.map((r) => [r.status, r.resumed_from_page])).toEqual([['failed', null], ['succeeded', 5]]);
    expect(await dbDigest(h.db.pool, 'account-v1', h.account)).toEqual(simDigest(h.sim, 'account-v1', h.account));
    expect(await checkpointOf(h.db.pool, stream)).toEqual({ watermark: new Date(T0 + 60_000).toISOString(), from: expect.any(String) });
    expect(await duplicateCheck(h.db.pool)).toEqual({ rows: 1000, distinct: 1000 });
  });

  it('v2: a page that stays truncated fails the stream naming the cursor; the saved cursor resumes it exactly', async () => {
    const h = await harness({ accountAuditEntries: 1000 }, [{ route: V2_ROUTE, kind: 'truncated', skip: 4 }]);
    const stream = `account-audit:${h.account}`;
    const o = failed(outcomeOf(await syncAll(h.ctx, { streams: [stream] }), stream));
    expect(o.error.message).toContain(`stream ${stream}: GET /accounts/${h.account}/logs/audit page #5 (cursor) failed (HTTP 200`);
    expect(o.error.message).toMatch(/invalid JSON/);
    expect(o.counts).toMatchObject({ requests: 8, pages: 4, rowsUpserted: 400 });
    const cp = await checkpointOf(h.db.pool, stream);
    expect(cp).toMatchObject({ window: { pages: 4, entries: 400 } });
    expect(typeof cp!.window.next.cursor).toBe('string');
    // The saved cursor is the one the failing request carried.
    const failedRequests = h.sim.stats.log.filter((l) => l.route === V2_ROUTE).slice(4);
    expect(failedRequests).toHaveLength(4);
    for (const l of failedRequests) expect(l.query.cursor).toBe(cp!.window.next.cursor);
    const order = simIds(h.sim, 'account-v2', h.account);
    expect([...(await dbIds(h.db.pool, 'account-v2', h.account))].sort()).toEqual(order.slice(0, 400).sort());

    h.sim.setFaults([]);
    const again = succeeded(outcomeOf(await syncAll(h.ctx, { streams: [stream] }), stream));
    expect(again.counts).toMatchObject({ requests: 6, pages: 6, rowsFetched: 600, rowsUpserted: 600, resumed: 5 });
    expect(await dbDigest(h.db.pool, 'account-v2', h.account)).toEqual(simDigest(h.sim, 'account-v2', h.account));
    expect(await duplicateCheck(h.db.pool)).toEqual({ rows: 1000, distinct: 1000 });
  });
});

describe('a saved cursor the API no longer accepts', () => {
  it('restarts the window from just before the last stored entry; nothing lost, nothing doubled', async () => {
    const h = await harness({ accountAuditEntries: 1000 }, [{ route: V2_ROUTE, kind: 'malformed', skip: 4 }]);
    const stream = `account-audit:${h.account}`;
    failed(outcomeOf(await syncAll(h.ctx, { streams: [stream] }), stream));
    const cp = await checkpointOf(h.db.pool, stream);
    expect(cp).toMatchObject({ window: { pages: 4, entries: 400 } });
    // The cursor expired (or was issued for other filters): the API answers 400 "invalid cursor".
    await h.db.pool.query(`update sync_state set checkpoint = jsonb_set(checkpoint::jsonb, '{window,next,cursor}', '"bm90LWEtY3Vyc29y"') where stream = $1`, [stream]);
    h.sim.setFaults([]);
    h.sim.stats.reset();
    const again = succeeded(outcomeOf(await syncAll(h.ctx, { streams: [stream] }), stream));
    expect(h.sim.stats.byStatus[400]).toBe(1);
    // The restart asked for entries from one second before the last stored one.
    const restart = h.sim.stats.log.find((l) => l.status === 200)!;
    expect(restart.query.since).toBe(new Date(Date.parse(cp!.window.lastTime) - 1000).toISOString());
    expect(again.counts.rowsUpserted).toBe(600);
    expect(again.counts.rowsFetched).toBeGreaterThanOrEqual(601); // the last stored entry (and its ties) re-read
    expect(h.ctx.logLines.some((l) => l.includes('saved cursor refused'))).toBe(true);
    expect(await dbDigest(h.db.pool, 'account-v2', h.account)).toEqual(simDigest(h.sim, 'account-v2', h.account));
    expect(await duplicateCheck(h.db.pool)).toEqual({ rows: 1000, distinct: 1000 });
  });
});
