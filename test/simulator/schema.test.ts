import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type IssuedCredential, type Simulator } from '../../src/simulator/index.js';
import { auth, get, spec, validatorFor } from './helpers.js';

let sim: Simulator;
beforeAll(async () => { sim = await startSimulator({ seed: 7 }); });
afterAll(async () => { await sim.close(); });

describe('responses validate against openapi-subset.json', () => {
  it('covers every path of the subset with a 200 that validates', async () => {
    const a = sim.world.accounts[0]!.id;
    const concrete: Record<string, string> = {
      '/user/tokens/{token_id}': `/user/tokens/${sim.world.userTokens[1]!.id}`,
      '/user/invites/{invite_id}': `/user/invites/${String(sim.world.userInvites[0]!.id)}`,
      '/accounts/{account_id}/tokens/{token_id}': `/accounts/${a}/tokens/${sim.world.accountTokens(a)[0]!.id}`,
      '/accounts/{account_id}/logs/audit': `/accounts/${a}/logs/audit?since=2000-01-01&before=2100-01-01&limit=50`,
    };
    for (const path of Object.keys(spec.paths)) {
      const url = concrete[path] ?? path.replace('{account_id}', a);
      const res = await get(sim, url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(validatorFor(path, '200')(res.body), url).toEqual([]);
    }
  });

  it('error envelopes validate too', async () => {
    const a = sim.world.accounts[0]!.id;
    const cases: Array<[string, string]> = [
      ['/accounts', '/accounts?per_page=51'],
      ['/user/tokens', '/user/tokens?page=0'],
      ['/accounts/{account_id}/members', `/accounts/${a}/members?status=nope`],
      ['/user/audit_logs', '/user/audit_logs?per_page=1001'],
      ['/accounts/{account_id}/audit_logs', `/accounts/${a}/audit_logs?since=yesterday`],
      ['/accounts/{account_id}/logs/audit', `/accounts/${a}/logs/audit?since=2024-01-01`],
      ['/accounts/{account_id}/tokens/{token_id}', `/accounts/${a}/tokens/${'0'.repeat(32)}`],
    ];
    for (const [path, url] of cases) {
      const res = await get(sim, url);
      expect(res.status, url).toBeGreaterThanOrEqual(400);
      expect(validatorFor(path, '4XX')(res.body), url).toEqual([]);
    }
    const v2 = await get(sim, `/accounts/${a}/logs/audit?before=2024-01-01`);
    expect(v2.body.errors[0]).not.toHaveProperty('code');
  });

  it('doc-only endpoints follow the docs shapes', async () => {
    const bh = await get(sim, '/user/billing/history?per_page=5');
    expect(bh.body.result[0]).toMatchObject({ id: expect.any(String), type: expect.any(String), amount: expect.any(Number), currency: 'USD', occurred_at: expect.any(String) });
    expect(bh.body.result_info).toMatchObject({ page: 1, per_page: 5, count: 5, total_count: 25 });
    const rules = await get(sim, '/user/firewall/access_rules/rules');
    expect(rules.body.result[0]).toMatchObject({ configuration: { target: expect.any(String), value: expect.any(String) }, mode: expect.any(String), scope: { type: 'user' } });
    const subs = await get(sim, `/accounts/${sim.world.accounts[0]!.id}/subscriptions`);
    expect(validatorFor('/user/subscriptions', '200')(subs.body)).toEqual([]);
  });

  it('answers for every credential kind validate: account-token /accounts, both verify endpoints, their refusals', async () => {
    const other = await startSimulator({ seed: 7, size: { users: 2 }, extraCredentials: [
      { kind: 'user-token', user: 1, prefix: true }, { kind: 'account-token', account: 1, prefix: true }, { kind: 'global-key', user: 1 }] });
    try {
      const [user, account, key] = other.extraCredentials as [IssuedCredential, IssuedCredential, IssuedCredential];
      const own = other.world.accounts[1]!.id, foreign = other.world.accounts[0]!.id, third = other.world.accounts[2]!.id;
      const ok: Array<[string, string, IssuedCredential]> = [
        ['/accounts', '/accounts?page=3', account],
        ['/accounts', '/accounts', user],
        ['/user/tokens/verify', '/user/tokens/verify', user],
        // No account verify path in the subset: its answer has the user verify endpoint's shape.
        ['/user/tokens/verify', `/accounts/${own}/tokens/verify`, account],
        ['/accounts/{account_id}/tokens', `/accounts/${own}/tokens?per_page=50`, account],
        ['/accounts/{account_id}/tokens/{token_id}', `/accounts/${own}/tokens/${account.kind === 'account-token' ? account.tokenId : ''}`, account],
        ['/user', '/user', key],
      ];
      for (const [path, url, c] of ok) {
        const res = await get(other, url, auth(c));
        expect(res.status, url).toBe(200);
        expect(validatorFor(path, '200')(res.body), url).toEqual([]);
      }
      other.world.removeAccount(foreign);
      const refused: Array<[string, string, IssuedCredential, number]> = [
        ['/user', '/user', account, 403],
        ['/user/tokens/verify', '/user/tokens/verify', account, 401],
        ['/user/tokens/verify', '/user/tokens/verify', key, 401],
        ['/accounts/{account_id}/tokens', `/accounts/${third}/tokens`, account, 403],
        ['/accounts/{account_id}/members', `/accounts/${foreign}/members`, user, 404],
        ['/accounts/{account_id}/audit_logs', `/accounts/${foreign}/audit_logs`, user, 404],
        ['/accounts/{account_id}/logs/audit', `/accounts/${foreign}/logs/audit?since=2000-01-01&before=2100-01-01`, user, 404],
      ];
      for (const [path, url, c, status] of refused) {
        const res = await get(other, url, auth(c));
        expect(res.status, url).toBe(status);
        expect(validatorFor(path, '4XX')(res.body), url).toEqual([]);
        expect(res.body.errors[0].code, url).toBe(status === 404 ? 7003 : status === 401 ? 1000 : c === account && path === '/user' ? 9109 : 10000);
      }
    } finally {
      await other.close();
    }
  });

  it('fault answers keep the envelopes: error in each style, null-result on /user/subscriptions', async () => {
    const a = sim.world.accounts[0]!.id;
    const cases: Array<[string, string, string]> = [
      ['GET /accounts/:account_id/members', '/accounts/{account_id}/members', `/accounts/${a}/members`],
      ['GET /user/audit_logs', '/user/audit_logs', '/user/audit_logs'],
      ['GET /accounts/:account_id/logs/audit', '/accounts/{account_id}/logs/audit', `/accounts/${a}/logs/audit?since=2000-01-01&before=2100-01-01`],
    ];
    for (const [route, path, url] of cases) {
      sim.setFaults([{ route, kind: 'error', code: 10001, message: 'Internal server error', count: 1 }]);
      const res = await get(sim, url);
      expect(res.status, url).toBe(400);
      expect(validatorFor(path, '4XX')(res.body), url).toEqual([]);
    }
    sim.setFaults([{ route: 'GET /user/subscriptions', kind: 'null-result', count: 1 }]);
    const subs = await get(sim, '/user/subscriptions');
    expect(subs.body.result).toBeNull();
    expect(validatorFor('/user/subscriptions', '200')(subs.body)).toEqual([]);
    sim.setFaults([]);
  });
});

