import { afterEach, describe, expect, it } from 'vitest';
import { type AuditEntry, type AuditKind, type FaultRule, startSimulator, type Simulator, type WorldSize } from '../../src/simulator/index.js';
import type { StreamOutcome } from '../../src/sync/runner.js';
import { syncAll } from '../../src/sync/sync-all.js';
import {
  checkpointOf, dbDigest, dbIds, duplicateCheck, entryTimeMs, keysetCost, outcomeOf, simDigest, simTimes, succeeded, V1_ACCOUNT_ROUTE, V2_ROUTE,
} from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const SEC = 1000;
const MIN = 60 * SEC;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

interface Harness {
  db: TestDatabase;
  sim: Simulator;
  ctx: TestContext;
  /** One clock for the simulator (visibility of late entries) and the syncing side. */
  clock: { t: number };
  account: string;
  tick(streams?: string[]): Promise<StreamOutcome[]>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function harness(size: Partial<WorldSize>, env: Record<string, string> = {}, faults: FaultRule[] = []): Promise<Harness> {
  const clock = { t: T0 };
  const sim = await startSimulator({ seed: 5, size: { accounts: 1, auditDays: 3, ...size }, rateLimit: false, faults, now: () => clock.t });
  const db = await createTestDatabase();
  cleanups.push(() => db.drop(), () => sim.close());
  const ctx = testContext(db, sim, { LOG_LEVEL: 'info', ...env });
  ctx.now = () => new Date(clock.t);
  const account = sim.world.accounts[0]!.id;
  return {
    db, sim, ctx, clock, account,
    tick: (streams = ['account-audit', 'account-audit-v1']) => syncAll(ctx, { streams }),
  };
}

const allSucceeded = (outcomes: StreamOutcome[]) => {
  for (const o of outcomes) succeeded(o);
  return outcomes;
};

/** The archive of a stream equals the simulator's entries that pass `keep`. */
async function expectArchive(h: Harness, kind: AuditKind, keep: (e: AuditEntry) => boolean = () => true) {
  const expected = simDigest(h.sim, kind, h.account, keep);
  expect(await dbDigest(h.db.pool, kind, h.account), kind).toEqual(expected);
  return expected.count;
}

async function expectNoDuplicates(h: Harness) {
  const d = await duplicateCheck(h.db.pool);
  expect(d.rows).toBe(d.distinct);
  return d.rows;
}

const countIn = (h: Harness, kind: AuditKind, since: number, before: number) => {
  let n = 0;
  for (const e of h.sim.world.auditStream(kind, h.account).entries()) if (entryTimeMs(e) >= since && entryTimeMs(e) < before) n++;
  return n;
};

const KINDS: Array<{ kind: AuditKind; stream: (a: string) => string }> = [
  { kind: 'account-v2', stream: (a) => `account-audit:${a}` },
  { kind: 'account-v1', stream: (a) => `account-audit-v1:${a}` },
];

describe('late entries and the overlap', () => {
  it('archives entries published late inside overlap + lag; misses the documented older ones', async () => {
    const h = await harness({ accountAuditEntries: 3000, accountAuditV1Entries: 500 });
    allSucceeded(await h.tick());
    const w1 = T0 - 2 * MIN; // first window ended at now − lag
    for (const { stream } of KINDS) expect(await checkpointOf(h.db.pool, stream(h.account))).toEqual({ watermark: iso(w1), from: expect.any(String) });

    // Five minutes later, entries appear with event times in the past.
    h.clock.t = T0 + 5 * MIN;
    const late = {
      afterWatermark: T0 - 1 * MIN,
      insideOverlap: w1 - 9 * MIN,
      atOverlapStart: w1 - 10 * MIN, // the next window's `since`, inclusive
      tooLate: w1 - 10 * MIN - 1 * SEC, // before watermark − overlap: documented as missed
    };
    const appended = new Map<AuditKind, Record<keyof typeof late, string>>();
    for (const { kind } of KINDS) {
      const ids = {} as Record<keyof typeof late, string>;
      for (const [name, time] of Object.entries(late) as Array<[keyof typeof late, number]>) {
        const [e] = h.sim.world.auditStream(kind, h.account).append([{ time: iso(time), action: { type: 'update' } }], { visibleAt: h.clock.t });
        ids[name] = e!.id;
      }
      appended.set(kind, ids);
    }

    const second = allSucceeded(await h.tick());
    for (const { kind, stream } of KINDS) {
      const ids = appended.get(kind)!;
      const archived = await dbIds(h.db.pool, kind, h.account);
      expect([ids.afterWatermark, ids.insideOverlap, ids.atOverlapStart].every((id) => archived.has(id)), kind).toBe(true);
      // config.ts: "an entry published up to lag + overlap = 12 minutes late is still archived" —
      // this one is older than the previous window's end less the overlap, so no window covers it again.
      expect(archived.has(ids.tooLate), kind).toBe(false);
      await expectArchive(h, kind, (e) => e.id !== ids.tooLate);
      // New rows of the second tick: the three late entries plus what the lag held back last time.
      const heldBack = countIn(h, kind, w1, T0 + 3 * MIN) - 1; // minus the appended afterWatermark
      expect(succeeded(outcomeOf(second, stream(h.account))).counts.rowsUpserted, kind).toBe(3 + heldBack);
    }
    await expectNoDuplicates(h);
  });
});

describe('ties at page and window boundaries', () => {
  it('entries sharing one timestamp across pages of 7 and on both window edges are neither lost nor doubled', async () => {
    const h = await harness({ accountAuditEntries: 400, accountAuditV1Entries: 300 }, { FLAREWATCH_AUDIT_PAGE_SIZE: '7' });
    const TIE = 25; // > 3 pages of 7
    // Tick 1 runs at T0 + 2m: its window ends exactly at T0 (exclusive); tick 2 starts at T0 − 10m (inclusive).
    for (const { kind } of KINDS) {
      const stream = h.sim.world.auditStream(kind, h.account);
      stream.append(Array.from({ length: TIE }, () => ({ time: iso(T0), action: { type: 'update' } })), { visibleAt: T0 });
      stream.append(Array.from({ length: TIE }, () => ({ time: iso(T0 - 10 * MIN), action: { type: 'update' } })), { visibleAt: T0 });
    }
    h.clock.t = T0 + 2 * MIN;
    const first = allSucceeded(await h.tick());
    for (const { kind, stream } of KINDS) {
      const n = await expectArchive(h, kind, (e) => entryTimeMs(e) < T0);
      // v1 walks by time: the 25-entry instant (more than a page) is paged through on its own.
      const pages = kind === 'account-v2' ? Math.ceil(n / 7) : keysetCost(simTimes(h.sim, kind, h.account, -Infinity, T0), 7).pages;
      expect(succeeded(outcomeOf(first, stream(h.account))).counts, kind).toMatchObject({ rowsFetched: n, rowsUpserted: n, pages });
    }
    expect(await checkpointOf(h.db.pool, `account-audit:${h.account}`)).toEqual({ watermark: iso(T0), from: expect.any(String) });

    h.clock.t = T0 + 3 * MIN;
    const second = allSucceeded(await h.tick());
    for (const { kind, stream } of KINDS) {
      await expectArchive(h, kind);
      const fetched = countIn(h, kind, T0 - 10 * MIN, T0 + MIN);
      expect(fetched, kind).toBeGreaterThanOrEqual(2 * TIE);
      expect(succeeded(outcomeOf(second, stream(h.account))).counts, kind).toMatchObject({ rowsFetched: fetched, rowsUpserted: TIE });
    }
    // The second v2 window asked for since = T0 − 10m exactly and got the tie at that instant back.
    const v2Since = h.sim.stats.log.filter((l) => l.route === V2_ROUTE && l.query.since === iso(T0 - 10 * MIN));
    expect(v2Since.length).toBe(Math.ceil(countIn(h, 'account-v2', T0 - 10 * MIN, T0 + MIN) / 7));
    await expectNoDuplicates(h);
  });
});

describe('entries arriving during a walk', () => {
  it('end up archived by the same or the next tick', async () => {
    const slow: FaultRule[] = [
      { route: V2_ROUTE, kind: 'slow', delayMs: 15 },
      { route: V1_ACCOUNT_ROUTE, kind: 'slow', delayMs: 15 },
    ];
    const h = await harness({ accountAuditEntries: 6000, accountAuditV1Entries: 3000, auditDays: 1 }, { FLAREWATCH_AUDIT_PAGE_SIZE: '100' }, slow);
    h.clock.t = T0 + 1 * MIN;
    let running = true;
    let appendedDuringWalk = 0;
    let k = 0;
    const appender = (async () => {
      // Let the walk get going, then keep publishing entries stamped up to 5 minutes in the past.
      await new Promise((r) => setTimeout(r, 200));
      while (running) {
        for (const { kind } of KINDS) {
          const time = h.clock.t - ((k * 37_000) % (5 * MIN));
          h.sim.world.auditStream(kind, h.account).append([{ time: iso(time), action: { type: 'update' } }], { visibleAt: h.clock.t });
        }
        k++;
        if (running) appendedDuringWalk++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const first = await h.tick();
    running = false;
    await appender;
    allSucceeded(first);
    expect(appendedDuringWalk).toBeGreaterThanOrEqual(20);
    await expectNoDuplicates(h);
    // Whatever the first tick took, it took correctly: only real entries, each once.
    for (const { kind } of KINDS) {
      const archived = await dbIds(h.db.pool, kind, h.account);
      const known = new Set([...h.sim.world.auditStream(kind, h.account).entries()].map((e) => e.id));
      expect([...archived].every((id) => known.has(id)), kind).toBe(true);
    }

    h.clock.t += 3 * MIN;
    allSucceeded(await h.tick());
    for (const { kind } of KINDS) await expectArchive(h, kind);
    await expectNoDuplicates(h);
  });
});

describe('v2 sign-ins published 90 s after their time', () => {
  const signIn = (h: Harness, time: number) =>
    h.sim.world.auditStream('account-v2', h.account).append([{ time: iso(time), action: { type: 'login', description: 'User logged in' } }])[0]!.id;

  it('are caught with the default 2-minute lag', async () => {
    const h = await harness({ accountAuditEntries: 500, accountAuditV1Entries: 100 });
    const T = T0 + 30 * MIN;
    h.clock.t = T;
    const old = signIn(h, T - 3 * MIN); // visible since T − 90 s, inside the first window
    const recent = signIn(h, T - 30 * SEC); // invisible until T + 60 s
    const edge = signIn(h, T - 100 * SEC);
    // The API really does not show the recent one yet.
    expect(h.sim.world.auditStream('account-v2', h.account).count()).toBe(500 + 2);
    allSucceeded(await h.tick(['account-audit']));
    let archived = await dbIds(h.db.pool, 'account-v2', h.account);
    expect([archived.has(old), archived.has(recent), archived.has(edge)]).toEqual([true, false, false]);

    h.clock.t = T + 3 * MIN;
    allSucceeded(await h.tick(['account-audit']));
    archived = await dbIds(h.db.pool, 'account-v2', h.account);
    expect([archived.has(old), archived.has(recent), archived.has(edge)]).toEqual([true, true, true]);
    await expectArchive(h, 'account-v2');
    await expectNoDuplicates(h);
  });

  it('are caught by the overlap even with no lag at all', async () => {
    const h = await harness({ accountAuditEntries: 500, accountAuditV1Entries: 100 }, { FLAREWATCH_AUDIT_LAG: '0s' });
    const T = T0 + 30 * MIN;
    h.clock.t = T;
    const recent = signIn(h, T - 30 * SEC);
    const first = allSucceeded(await h.tick(['account-audit']));
    // Inside the first window [.., T) but not published yet: missed by this tick.
    expect((await dbIds(h.db.pool, 'account-v2', h.account)).has(recent)).toBe(false);
    expect(succeeded(outcomeOf(first, `account-audit:${h.account}`)).counts.rowsUpserted).toBe(500);

    h.clock.t = T + 60 * SEC; // published now
    const second = allSucceeded(await h.tick(['account-audit']));
    expect((await dbIds(h.db.pool, 'account-v2', h.account)).has(recent)).toBe(true);
    expect(succeeded(outcomeOf(second, `account-audit:${h.account}`)).counts.rowsUpserted).toBe(1);
    await expectArchive(h, 'account-v2');
  });
});

describe('v1 `since` is inclusive', () => {
  it('re-reading the boundary entry in the next window stores no duplicate', async () => {
    const h2 = await harness({ accountAuditEntries: 100, accountAuditV1Entries: 3000, auditDays: 1 });
    // A timestamp shared by several entries, some hours before the end of the history.
    const all = [...h2.sim.world.auditStream('account-v1', h2.account).entries()];
    const index = all.findIndex((e, i) => i > 1500 && entryTimeMs(all[i + 1]!) === entryTimeMs(e));
    const X = entryTimeMs(all[index]!);
    const atX = all.filter((e) => entryTimeMs(e) === X).length;
    expect(atX).toBeGreaterThanOrEqual(2);
    // FLAREWATCH_AUDIT_SINCE = X: the first backfill starts exactly at a tie.
    h2.ctx.config.audit.since = new Date(X);
    const stream = `account-audit-v1:${h2.account}`;
    h2.clock.t = X + 12 * MIN; // first window [X, X + 10m)
    const first = allSucceeded(await h2.tick(['account-audit-v1']));
    const n1 = await expectArchive(h2, 'account-v1', (e) => entryTimeMs(e) >= X && entryTimeMs(e) < X + 10 * MIN);
    expect(n1).toBeGreaterThan(atX);
    expect(succeeded(outcomeOf(first, stream)).counts.rowsUpserted).toBe(n1);

    // Second window: [watermark − overlap, ..) = [X, X + 10m + 30s): X again, inclusive.
    h2.clock.t = X + 12 * MIN + 30 * SEC;
    const second = allSucceeded(await h2.tick(['account-audit-v1']));
    const v1Requests = h2.sim.stats.log.filter((l) => l.route === V1_ACCOUNT_ROUTE);
    expect(v1Requests.at(-1)!.query.since).toBe(iso(X));
    const refetched = countIn(h2, 'account-v1', X, X + 10 * MIN + 30 * SEC);
    const added = countIn(h2, 'account-v1', X + 10 * MIN, X + 10 * MIN + 30 * SEC);
    expect(succeeded(outcomeOf(second, stream)).counts).toMatchObject({ rowsFetched: refetched, rowsUpserted: added });
    expect(refetched).toBeGreaterThanOrEqual(n1);

    h2.clock.t = X + 2 * 60 * MIN;
    allSucceeded(await h2.tick(['account-audit-v1']));
    await expectArchive(h2, 'account-v1', (e) => entryTimeMs(e) >= X && entryTimeMs(e) < X + 2 * 60 * MIN - 2 * MIN);
    expect(await expectNoDuplicates(h2)).toBeGreaterThan(n1);
  });
});
