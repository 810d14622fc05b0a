import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { get } from './helpers.js';

let sim: Simulator | undefined;
afterEach(async () => { await sim?.close(); sim = undefined; });

describe('auth', () => {
  it('answers Cloudflare errors for missing, malformed, unknown and denied credentials', async () => {
    sim = await startSimulator({ credentials: { deny: ['GET /accounts/:account_id/members'] } });
    const a = sim.world.accounts[0]!.id;
    const code = async (path: string, h: Record<string, string>) => { const r = await get(sim!, path, h); return [r.status, r.body.errors[0].code]; };
    expect(await code('/user/tokens', {})).toEqual([400, 9106]);
    expect(await code('/user/tokens', { authorization: 'Token abc' })).toEqual([400, 6003]);
    expect(await code('/user/tokens', { authorization: `Bearer ${'x'.repeat(40)}` })).toEqual([403, 9109]);
    expect(await code('/user/tokens/verify', { authorization: `Bearer ${'x'.repeat(40)}` })).toEqual([401, 1000]);
    expect(await code('/accounts', { 'x-auth-email': 'owner@example.com', 'x-auth-key': 'wrong-key-0123456789abcdef' })).toEqual([403, 9103]);
    expect(await code(`/accounts/${a}/members`, { authorization: `Bearer ${sim.credentials.apiToken}` })).toEqual([403, 10000]);
    expect((await get(sim, '/accounts', { 'x-auth-email': sim.credentials.email, 'x-auth-key': sim.credentials.apiKey })).status).toBe(200);
  });
});

describe('rate limit', () => {
  it('429 with Retry-After, then blocked until blockMs passes', async () => {
    let now = 1_000_000;
    sim = await startSimulator({ now: () => now, rateLimit: { requests: 3, windowMs: 10_000, blockMs: 20_000 } });
    for (let i = 0; i < 3; i++) expect((await get(sim, '/user')).headers.get('ratelimit')).toBe(`"default";r=${2 - i};t=10`);
    const limited = await get(sim, '/user');
    expect([limited.status, limited.headers.get('retry-after'), limited.body.errors[0].code]).toEqual([429, '20', 971]);
    now += 15_000;
    expect((await get(sim, '/user')).status).toBe(429);
    now += 6_000;
    expect((await get(sim, '/user')).status).toBe(200);
  });
});

describe('faults', () => {
  it('each kind does what it says', async () => {
    sim = await startSimulator({ rateLimit: false });
    const one = (kind: string, extra = {}) => sim!.setFaults([{ route: 'GET /accounts', kind: kind as never, count: 1, ...extra }]);
    one('5xx', { status: 503 }); expect((await get(sim, '/accounts')).status).toBe(503);
    one('429', { retryAfter: 7 }); expect((await get(sim, '/accounts')).headers.get('retry-after')).toBe('7');
    one('html'); const html = await get(sim, '/accounts'); expect([html.status, html.headers.get('content-type')]).toEqual([502, 'text/html; charset=UTF-8']);
    one('malformed'); const m = await get(sim, '/accounts'); expect([m.status, m.body]).toEqual([200, undefined]);
    one('truncated'); const t = await get(sim, '/accounts'); expect(t.body).toBeUndefined();
    one('reset'); await expect(fetch(`${sim.url}/accounts`, { headers: { authorization: `Bearer ${sim.credentials.apiToken}` } })).rejects.toThrow();
    one('slow', { delayMs: 50 }); expect((await get(sim, '/accounts')).status).toBe(200);
    sim.setFaults([{ route: 'GET /accounts', kind: 'repeat-page' }]);
    expect((await get(sim, '/accounts?page=2&per_page=5')).body.result_info.page).toBe(1);
    sim.setFaults([{ route: 'GET /accounts/:account_id/audit_logs', kind: 'poison-entry', match: { page: '2' } }]);
    const a = sim.world.accounts[0]!.id;
    const ok = await get(sim, `/accounts/${a}/audit_logs?page=1`);
    expect(ok.body.result.every((e: any) => e.id && !Number.isNaN(Date.parse(e.when)))).toBe(true);
    const bad = await get(sim, `/accounts/${a}/audit_logs?page=2`);
    expect(bad.body.result.some((e: any) => !e.id || Number.isNaN(Date.parse(e.when)))).toBe(true);
  });

  it('probabilistic faults and everything else repeat exactly for one seed', async () => {
    const run = async () => {
      const s = await startSimulator({ seed: 42, now: () => Date.parse('2026-01-01T00:00:00Z'), faults: [{ route: '*', kind: '5xx', probability: 0.4, skip: 1 }] });
      const out: string[] = [];
      for (let i = 0; i < 12; i++) out.push(`${(await get(s, '/user/tokens?per_page=50')).text}`);
      out.push((await get(s, `/accounts/${s.world.accounts[1]!.id}/audit_logs?per_page=50&page=2`)).text);
      await s.close();
      return out;
    };
    const [x, y] = [await run(), await run()];
    expect(x).toEqual(y);
    expect(x.filter((b) => b.includes('"success":false')).length).toBeGreaterThan(0);
  });
});

describe('mutations', () => {
  it('show up in the next response', async () => {
    sim = await startSimulator({ rateLimit: false });
    const a = sim.world.accounts[1]!.id;
    const t = sim.world.addAccountToken(a, { name: 'fresh token' });
    const list = async () => (await get(sim!, `/accounts/${a}/tokens?per_page=50`)).body.result;
    expect((await list()).find((x: any) => x.id === t.id)).toEqual(t);
    sim.world.expireToken(t.id);
    expect((await list()).find((x: any) => x.id === t.id)).toBeUndefined();
    expect((await get(sim, `/accounts/${a}/tokens?per_page=50&include_expired=true`)).body.result.find((x: any) => x.id === t.id).status).toBe('expired');
    const m = sim.world.addMember(a, { status: 'pending' });
    expect((await get(sim, `/accounts/${a}/members?status=pending&per_page=50`)).body.result.map((x: any) => x.id)).toContain(m.id);
    sim.world.updateAccountSettings(a, { enforce_twofactor: true });
    expect((await get(sim, `/accounts/${a}`)).body.result.settings.enforce_twofactor).toBe(true);
    expect(JSON.stringify((await get(sim, '/user/tokens?per_page=50')).body)).not.toContain('"value"');
  });
});
