import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { get } from './helpers.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
let clock = T0;
let sim: Simulator | undefined;
afterEach(async () => { await sim?.close(); sim = undefined; clock = T0; });

const start = (opts: Parameters<typeof startSimulator>[0] = {}) =>
  startSimulator({ seed: 6, rateLimit: false, now: () => clock, size: { accountAuditV1Entries: 300, auditDays: 30 }, ...opts });
const whenOf = (e: any) => Date.parse(e.when ?? e.action.time);
const ids = (r: Awaited<ReturnType<typeof get>>) => (r.body.result as Array<{ id: string }>).map((x) => x.id);

describe('retention', () => {
  it('entries older than now − retentionMs are served by no listing, and the edge moves with the clock', async () => {
    sim = await start({ audit: { retentionMs: 10 * DAY } });
    const a = sim.world.accounts[0]!.id;
    const v1 = sim.world.auditStream('account-v1', a);
    const served = async () => (await get(sim!, `/accounts/${a}/audit_logs?per_page=1000&direction=asc`)).body.result;
    const kept = await served();
    expect(kept.length).toBe(v1.count());
    expect(kept.every((e: any) => whenOf(e) >= T0 - 10 * DAY)).toBe(true);
    expect(v1.count() + v1.droppedCount()).toBe(300);
    expect(v1.droppedCount()).toBeGreaterThan(150);
    expect([...v1.dropped()].every((e: any) => whenOf(e) < T0 - 10 * DAY)).toBe(true);
    const v2 = (await get(sim, `/accounts/${a}/logs/audit?since=2000-01-01&before=2100-01-01&limit=1000`)).body.result;
    expect(v2.every((e: any) => whenOf(e) >= T0 - 10 * DAY)).toBe(true);

    clock += 5 * DAY;
    const later = await served();
    expect(later.every((e: any) => whenOf(e) >= clock - 10 * DAY)).toBe(true);
    expect(later.length).toBeLessThan(kept.length);
    expect(later.map((e: any) => e.id)).toEqual(kept.slice(kept.length - later.length).map((e: any) => e.id));
  });
});

describe('ageing out while a walk runs', () => {
  it('ageOutPerRequest: each request drops the n oldest of its stream first, so page-number paging skips n per page', async () => {
    sim = await start({ audit: { ageOutPerRequest: 3 } });
    const a = sim.world.accounts[0]!.id;
    const handle = sim.world.auditStream('account-v1', a);
    const original = [...handle.entries()].map((e) => e.id);
    const v2Count = sim.world.auditStream('account-v2', a).count();
    const pages: string[][] = [];
    for (let page = 1; page <= 4; page++) pages.push(ids(await get(sim, `/accounts/${a}/audit_logs?per_page=10&page=${page}&direction=asc`)));
    // Page k starts at original index (k-1)·10 + 3k: three entries per page boundary were never served.
    pages.forEach((p, k) => expect(p).toEqual(original.slice(k * 10 + 3 * (k + 1), k * 10 + 3 * (k + 1) + 10)));
    expect(handle.droppedCount()).toBe(12);
    expect([...handle.dropped()].map((e) => e.id)).toEqual(original.slice(0, 12));
    expect(handle.count()).toBe(300 - 12);
    expect(sim.world.auditStream('account-v2', a).count()).toBe(v2Count);
    // Dropped for good: the next answer starts after them too.
    sim.world.audit.ageOutPerRequest = 0;
    expect(ids(await get(sim, `/accounts/${a}/audit_logs?per_page=5&direction=asc`))).toEqual(original.slice(12, 17));
  });

  it('dropOldest on a handle is an index offset: a million-entry stream stays flat in memory', async () => {
    sim = await start({ size: { accountAuditEntries: 1_000_000 } });
    const a = sim.world.accounts[0]!.id;
    const handle = sim.world.auditStream('account-v2', a);
    const heap = process.memoryUsage().heapUsed;
    const oldest = (await get(sim, `/accounts/${a}/logs/audit?since=2000-01-01&before=2100-01-01&limit=1&direction=asc`)).body.result[0];
    expect(handle.dropOldest(600_000)).toBe(600_000);
    expect([handle.count(), handle.droppedCount()]).toEqual([400_000, 600_000]);
    const next = (await get(sim, `/accounts/${a}/logs/audit?since=2000-01-01&before=2100-01-01&limit=1000&direction=asc`)).body.result;
    expect(next).toHaveLength(1000);
    expect(next.some((e: any) => e.id === oldest.id)).toBe(false);
    expect(handle.dropped().next().value?.id).toBe(oldest.id);
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('v1 keyset walking', () => {
  it('since is inclusive at millisecond precision, before exclusive', async () => {
    sim = await start();
    const a = sim.world.accounts[0]!.id;
    const base = Date.parse('2026-02-27T12:00:00Z');
    const [x, y, z] = sim.world.auditStream('account-v1', a).append([123, 124, 125].map((ms) => ({ time: new Date(base + ms) })));
    const window = async (since: number, before: number) =>
      ids(await get(sim!, `/accounts/${a}/audit_logs?per_page=1000&direction=asc&since=${new Date(since).toISOString()}&before=${new Date(before).toISOString()}`));
    expect(await window(base + 124, base + 125)).toEqual([y!.id]);
    expect(await window(base + 123, base + 125)).toEqual([x!.id, y!.id]);
    expect(await window(base + 124, base + 126)).toEqual([y!.id, z!.id]);
  });

  it('walking with since = the last entry time, page 1 each time, returns that instant again first and misses nothing', async () => {
    sim = await start();
    const a = sim.world.accounts[0]!.id;
    const before = new Date(T0 + DAY).toISOString();
    const seen = new Set<string>();
    let since = '2000-01-01T00:00:00.000Z';
    let prevAtLast: string[] = [];
    for (let requests = 0; requests < 200; requests++) {
      const page = (await get(sim, `/accounts/${a}/audit_logs?per_page=7&page=1&direction=asc&since=${since}&before=${before}`)).body.result;
      if (prevAtLast.length) expect(page.slice(0, prevAtLast.length).map((e: any) => e.id)).toEqual(prevAtLast);
      page.forEach((e: any) => seen.add(e.id));
      if (page.length < 7) break;
      since = page[page.length - 1].when;
      prevAtLast = page.filter((e: any) => e.when === since).map((e: any) => e.id);
    }
    expect(seen.size).toBe(300);
  });

  it('an instant holding more entries than a page pages through with page numbers, 400 past an exact multiple', async () => {
    sim = await start();
    const a = sim.world.accounts[0]!.id;
    const t = Date.parse('2026-02-20T08:30:00.500Z');
    const added = sim.world.auditStream('account-v1', a).append(Array.from({ length: 1200 }, () => ({ time: new Date(t) })));
    const url = (perPage: number, page: number) =>
      `/accounts/${a}/audit_logs?direction=asc&since=${new Date(t).toISOString()}&before=${new Date(t + 1).toISOString()}&per_page=${perPage}&page=${page}`;
    const got: string[] = [];
    for (let page = 1; page <= 12; page++) {
      const r = await get(sim, url(100, page));
      expect(r.body.result).toHaveLength(100);
      got.push(...ids(r));
    }
    expect(got).toEqual(added.map((e) => e.id).sort());
    const past = await get(sim, url(100, 13));
    expect([past.status, past.body.errors[0].code]).toEqual([400, 1001]);
    expect((await get(sim, url(1000, 2))).body.result).toHaveLength(200);
    const after = await get(sim, url(1000, 3));
    expect([after.status, after.body.result]).toEqual([200, []]);
  });
});
