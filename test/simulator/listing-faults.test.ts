import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type FaultRule, type Simulator } from '../../src/simulator/index.js';
import { bearer, get } from './helpers.js';

let sim: Simulator;
let acct: string;
beforeEach(async () => {
  sim = await startSimulator({ seed: 11, rateLimit: false, now: () => Date.parse('2026-04-01T10:00:00Z') });
  acct = sim.world.accounts[0]!.id;
});
afterEach(async () => { await sim.close(); });

const once = (rule: Omit<FaultRule, 'count'>) => sim.setFaults([{ count: 1, ...rule }]);
const V2 = () => `/accounts/${acct}/logs/audit?since=2000-01-01&before=2100-01-01&limit=50&direction=asc`;
const ids = (r: Awaited<ReturnType<typeof get>>) => (r.body.result as Array<{ id: string }>).map((x) => x.id);

describe('error', () => {
  it('answers the given status and Cloudflare error in the route\'s envelope, once, then the listing goes on', async () => {
    once({ route: 'GET /accounts/:account_id/members', kind: 'error', match: { page: '2' }, code: 10001, message: 'Internal server error' });
    expect((await get(sim, `/accounts/${acct}/members?per_page=5&page=1`)).status).toBe(200);
    const hit = await get(sim, `/accounts/${acct}/members?per_page=5&page=2`);
    expect([hit.status, hit.body]).toEqual([400, { success: false, errors: [{ code: 10001, message: 'Internal server error' }], messages: [], result: null }]);
    expect((await get(sim, `/accounts/${acct}/members?per_page=5&page=2`)).status).toBe(200);

    once({ route: 'GET /accounts/:account_id/audit_logs', kind: 'error', match: { page: '3' } });
    const v1 = await get(sim, `/accounts/${acct}/audit_logs?per_page=10&page=3`);
    expect([v1.status, v1.body]).toEqual([400, { success: false, errors: [{ code: 1001, message: 'Invalid request' }], messages: [] }]);
  });

  it("match '*' refuses every request that carries the parameter, whatever its value (a saved v2 cursor)", async () => {
    sim.setFaults([{ route: 'GET /accounts/:account_id/logs/audit', kind: 'error', status: 404, message: 'cursor not found', match: { cursor: '*' } }]);
    const first = await get(sim, V2());
    expect(first.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const refused = await get(sim, `${V2()}&cursor=${first.body.result_info.cursor}`);
      expect([refused.status, refused.body]).toEqual([404, { success: false, errors: [{ message: 'cursor not found' }] }]);
    }
    expect((await get(sim, V2())).status).toBe(200);
  });
});

describe('cut-body', () => {
  it('sends 200 and the full content-length, then half the body and closes: reading it throws "terminated"', async () => {
    const full = await get(sim, '/accounts?per_page=50');
    once({ route: 'GET /accounts', kind: 'cut-body' });
    const res = await fetch(`${sim.url}/accounts?per_page=50`, { headers: bearer(sim) });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(full.text));
    await expect(res.text()).rejects.toThrow('terminated');
    expect((await get(sim, '/accounts?per_page=50')).text).toBe(full.text);
  });
});

describe('future-entry', () => {
  it('dates the first entry of one answer in 2999, same id and time of day (v1 when, v2 action.time)', async () => {
    const v1 = `/accounts/${acct}/audit_logs?per_page=20&direction=asc`;
    const normal = await get(sim, v1);
    once({ route: 'GET /accounts/:account_id/audit_logs', kind: 'future-entry' });
    const odd = (await get(sim, v1)).body.result;
    expect(odd[0].id).toBe(normal.body.result[0].id);
    expect(odd[0].when).toBe(`2999${normal.body.result[0].when.slice(4)}`);
    expect(odd.slice(1)).toEqual(normal.body.result.slice(1));
    expect((await get(sim, v1)).text).toBe(normal.text);

    const plain = await get(sim, V2());
    once({ route: 'GET /accounts/:account_id/logs/audit', kind: 'future-entry' });
    const v2 = await get(sim, V2());
    expect(v2.body.result[0].action.time).toBe(`2999${plain.body.result[0].action.time.slice(4)}`);
    expect([v2.body.result[0].id, v2.body.result_info.cursor]).toEqual([plain.body.result[0].id, plain.body.result_info.cursor]);
  });
});

describe('null-result and odd-result-info', () => {
  it('null-result: success with result null and no result_info', async () => {
    once({ route: 'GET /user/subscriptions', kind: 'null-result' });
    const r = await get(sim, '/user/subscriptions');
    expect([r.status, r.body]).toEqual([200, { result: null, success: true, errors: [], messages: [] }]);
    expect((await get(sim, '/user/subscriptions')).body.result).toHaveLength(2);
  });

  it('odd-result-info: count and per_page are non-numeric strings, page and total_count stay right', async () => {
    once({ route: 'GET /accounts/:account_id/members', kind: 'odd-result-info' });
    const r = await get(sim, `/accounts/${acct}/members?per_page=5&page=2`);
    expect(r.body.result).toHaveLength(5);
    expect(r.body.result_info).toEqual({ page: 2, per_page: 'n/a', count: 'n/a', total_count: 15, total_pages: 3 });
  });
});

describe('shift-listing', () => {
  it('page 1 loses its first member between two page requests: page 2 starts one later, the member is gone for good', async () => {
    const before = sim.world.members(acct).map((m) => m.id);
    sim.setFaults([{ route: 'GET /accounts/:account_id/members', kind: 'shift-listing', match: { page: '1' }, count: 1 }]);
    const p1 = await get(sim, `/accounts/${acct}/members?per_page=5&page=1`);
    const p2 = await get(sim, `/accounts/${acct}/members?per_page=5&page=2`);
    expect(ids(p1)).toEqual(before.slice(0, 5));
    expect(ids(p2)).toEqual(before.slice(6, 11));
    expect(p2.body.result_info.total_count).toBe(14);
    expect(sim.shifted).toEqual([{ route: 'GET /accounts/:account_id/members', removedId: before[0] }]);
    const detail = await get(sim, `/accounts/${acct}/members/${before[0]}`);
    expect([detail.status, detail.body.errors[0].code]).toEqual([404, 1003]);
  });

  it('replace: a new item is appended, so total_count is unchanged and still hides the shifted item', async () => {
    const before = sim.world.accountTokens(acct).map((t) => t.id);
    once({ route: 'GET /accounts/:account_id/tokens', kind: 'shift-listing', replace: true });
    await get(sim, `/accounts/${acct}/tokens?per_page=5&include_expired=true`);
    const p2 = await get(sim, `/accounts/${acct}/tokens?per_page=5&page=2&include_expired=true`);
    expect(p2.body.result_info.total_count).toBe(before.length);
    const { removedId, addedId } = sim.shifted[0]!;
    expect(removedId).toBe(before[0]);
    expect(ids(p2)).toEqual([...before.slice(6), addedId]);
    expect((await get(sim, `/accounts/${acct}/tokens/${removedId}`)).status).toBe(404);
  });

  it('works on accounts, roles and user tokens, and never removes the token the caller stands on', async () => {
    const shiftOnce = async (route: string, path: string) => {
      sim.setFaults([{ route, kind: 'shift-listing', count: 1 }]);
      const served = ids(await get(sim, path));
      return { served, shifted: sim.shifted.at(-1)! };
    };
    const allRoles = ids(await get(sim, `/accounts/${acct}/roles?per_page=50`));
    const roles = await shiftOnce('GET /accounts/:account_id/roles', `/accounts/${acct}/roles?per_page=5`);
    expect(roles.shifted.removedId).toBe(allRoles[0]);
    expect(ids(await get(sim, `/accounts/${acct}/roles?per_page=50`))).toEqual(allRoles.slice(1));
    expect((await get(sim, `/accounts/${acct}/roles/${roles.served[0]}`)).status).toBe(404);

    const tokens = await shiftOnce('GET /user/tokens', '/user/tokens?per_page=5');
    expect(tokens.served[0]).toBe(sim.world.credentialTokenId);
    expect(tokens.shifted.removedId).toBe(tokens.served[1]);
    expect((await get(sim, '/user/tokens/verify')).status).toBe(200);

    const accounts = await shiftOnce('GET /accounts', '/accounts?per_page=5');
    expect(accounts.shifted.removedId).toBe(accounts.served[0]);
    expect(ids(await get(sim, '/accounts?per_page=5'))).toEqual(accounts.served.slice(1));
    expect((await get(sim, `/accounts/${accounts.served[0]}/members`)).body.errors[0].code).toBe(7003);
  });
});
