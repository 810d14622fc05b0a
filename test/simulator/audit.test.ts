import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNIN_DELAY_MS, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { get } from './helpers.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
let clock = T0;
let sim: Simulator;
let acct: string;
beforeAll(async () => {
  sim = await startSimulator({ seed: 3, now: () => clock, rateLimit: false, size: { accountAuditV1Entries: 300, accountAuditEntries: 2000 } });
  acct = sim.world.accounts[0]!.id;
});
afterAll(async () => { await sim.close(); });

const key = (e: any) => `${e.when ?? e.action.time}|${e.id}`;

describe('v1 audit paging', () => {
  it('past-the-end page: 400 on an exact multiple, empty 200 otherwise', async () => {
    expect((await get(sim, `/accounts/${acct}/audit_logs?per_page=100&page=3`)).body.result).toHaveLength(100);
    const past = await get(sim, `/accounts/${acct}/audit_logs?per_page=100&page=4`);
    expect(past.status).toBe(400);
    const partial = await get(sim, `/accounts/${acct}/audit_logs?per_page=7&page=43`);
    expect(partial.body.result).toHaveLength(300 - 42 * 7);
    const after = await get(sim, `/accounts/${acct}/audit_logs?per_page=7&page=44`);
    expect([after.status, after.body.result]).toEqual([200, []]);
    const empty = await get(sim, `/accounts/${acct}/audit_logs?since=2099-01-01`);
    expect([empty.status, empty.body.result, empty.body.result_info]).toEqual([200, [], undefined]);
  });

  it('since is inclusive, before exclusive; desc is the exact reverse of asc', async () => {
    const asc = (await get(sim, `/accounts/${acct}/audit_logs?per_page=1000&direction=asc`)).body.result;
    const desc = (await get(sim, `/accounts/${acct}/audit_logs?per_page=1000`)).body.result;
    expect(desc.map(key)).toEqual([...asc].reverse().map(key));
    const sorted = [...asc].map(key).sort();
    expect(asc.map(key)).toEqual(sorted);
    const pivot = asc[150];
    const win = (await get(sim, `/accounts/${acct}/audit_logs?per_page=1000&direction=asc&since=${pivot.when}&before=${asc[200].when}`)).body.result;
    expect(win[0].when).toBe(pivot.when);
    expect(win.some((e: any) => e.when === asc[200].when)).toBe(false);
    // ties exist and pages of 7 cut through them without losing or repeating entries
    expect(new Set(asc.map((e: any) => e.when)).size).toBeLessThan(asc.length);
    const paged: any[] = [];
    for (let p = 1; p <= 43; p++) paged.push(...(await get(sim, `/accounts/${acct}/audit_logs?per_page=7&page=${p}&direction=asc`)).body.result);
    expect(paged.map(key)).toEqual(asc.map(key));
  });
});

describe('v2 audit cursor', () => {
  const base = () => `/accounts/${acct}/logs/audit?since=2000-01-01&before=2100-01-01T00:00:00Z`;
  it('cursor walk equals the stream, no dup, no gap, no trailing cursor', async () => {
    for (const direction of ['asc', 'desc']) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await get(sim, `${base()}&limit=333&direction=${direction}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...res.body.result.map((e: any) => e.id));
        cursor = res.body.result_info.cursor;
        expect(res.body.result_info.count).toBe(String(res.body.result.length));
      } while (cursor);
      const all = [...sim.world.auditStream('account-v2', acct).entries()].map((e) => e.id);
      expect(seen).toEqual(direction === 'asc' ? all : [...all].reverse());
    }
  });

  it('rejects missing bounds and a cursor reused with other filters; filters with .not and repeats', async () => {
    expect((await get(sim, `/accounts/${acct}/logs/audit?since=2024-01-01`)).status).toBe(400);
    const first = await get(sim, `${base()}&limit=5`);
    expect((await get(sim, `${base()}&limit=5&action_type=update&cursor=${first.body.result_info.cursor}`)).status).toBe(400);
    const f = await get(sim, `${base()}&limit=1000&action_type=update&action_type=create&actor_context.not=dash`);
    expect(f.body.result.length).toBeGreaterThan(0);
    for (const e of f.body.result) { expect(['update', 'create']).toContain(e.action.type); expect(e.actor.context).not.toBe('dash'); }
  });

  it('sign-ins appear only 90 s after their time', async () => {
    const at = new Date(clock - 10_000).toISOString();
    const [added] = sim.world.auditStream('account-v2', acct).append([{ time: at, action: { type: 'login', description: 'User logged in' } }]);
    const url = `${base()}&id=${added!.id}`;
    expect((await get(sim, url)).body.result).toHaveLength(0);
    clock += SIGNIN_DELAY_MS;
    expect((await get(sim, url)).body.result).toHaveLength(1);
  });
});

describe('1,000,000-entry stream', () => {
  it('walks pages from the middle with flat memory', async () => {
    const big = await startSimulator({ seed: 9, rateLimit: false, size: { accountAuditEntries: 1_000_000, accountAuditV1Entries: 1_000_000 } });
    const a = big.world.accounts[0]!.id;
    const before = process.memoryUsage().heapUsed;
    const stream = big.world.auditStream('account-v2', a);
    expect(stream.count()).toBe(1_000_000);
    const res = await get(big, `/accounts/${a}/audit_logs?per_page=1000&page=500&direction=asc`);
    expect(res.body.result).toHaveLength(1000);
    let cursor: string | undefined;
    const mid = new Date(Date.now() - 15 * 86_400_000).toISOString();
    for (let i = 0; i < 3; i++) {
      const r = await get(big, `/accounts/${a}/logs/audit?since=${mid}&before=2100-01-01&direction=asc&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.body.result).toHaveLength(1000);
      cursor = r.body.result_info.cursor;
    }
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(100 * 1024 * 1024);
    await big.close();
  });
});
