import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type IssuedCredential, type Simulator } from '../../src/simulator/index.js';
import { auth, get } from './helpers.js';

let sim: Simulator | undefined;
afterEach(async () => { await sim?.close(); sim = undefined; });

const errorOf = (r: Awaited<ReturnType<typeof get>>) => [r.status, r.body?.errors?.[0]?.code, r.body?.errors?.[0]?.message];
const ids = (r: Awaited<ReturnType<typeof get>>) => (r.body.result as Array<{ id: string }>).map((x) => x.id);

describe('several users', () => {
  it('each user has its own /user, tokens, invites and audit log; extra users are appended members of two accounts', async () => {
    sim = await startSimulator({ seed: 5, rateLimit: false, size: { users: 3, accounts: 3 } });
    const w = sim.world;
    expect(w.users).toHaveLength(3);
    expect(w.users[0]!.user).toBe(w.user);
    expect(w.users[0]!.tokens).toBe(w.userTokens);
    expect(new Set(w.users.map((u) => u.user.id)).size).toBe(3);
    expect(new Set(w.users.map((u) => u.user.email)).size).toBe(3);
    expect(w.users[1]!.accountIds).toEqual([w.accounts[1]!.id, w.accounts[2]!.id]);
    expect(w.users[2]!.accountIds).toEqual([w.accounts[2]!.id, w.accounts[0]!.id]);
    expect(w.users[1]!.tokens).toHaveLength(4);
    // appended after the generated members, with the user's own id and email
    const members = w.members(w.accounts[1]!.id);
    expect(members).toHaveLength(15 + 1);
    expect(members[15]!.user).toMatchObject({ id: w.users[1]!.user.id, email: w.users[1]!.user.email });

    const u1 = sim.issueCredential({ kind: 'user-token', user: 1 });
    expect((await get(sim, '/user', auth(u1))).body.result).toEqual(w.users[1]!.user);
    expect(ids(await get(sim, '/user/tokens?per_page=50', auth(u1)))).toEqual(w.users[1]!.tokens.map((t) => t.id));
    expect(ids(await get(sim, '/user/invites', auth(u1)))).toEqual(w.users[1]!.invites.map((i) => i.id));
    expect(ids(await get(sim, '/accounts', auth(u1)))).toEqual(w.users[1]!.accountIds);
    const logs = (await get(sim, '/user/audit_logs?per_page=1000', auth(u1))).body.result;
    expect(logs).toHaveLength(100);
    expect(new Set(logs.map((e: any) => e.owner.id))).toEqual(new Set([w.users[1]!.user.id]));
    expect((await get(sim, '/user/audit_logs?per_page=1000')).body.result).toHaveLength(500);
    // not a member of account 0: 403 10000
    expect(errorOf(await get(sim, `/accounts/${w.accounts[0]!.id}/members`, auth(u1)))).toEqual([403, 10000, 'Authentication error']);
    expect((await get(sim, `/accounts/${w.accounts[1]!.id}/members?per_page=50`, auth(u1))).status).toBe(200);
  });

  it('is deterministic from the seed, and addUser / addAccount / removeAccount change what /accounts answers', async () => {
    const make = () => startSimulator({ seed: 8, rateLimit: false, size: { users: 2 }, now: () => Date.parse('2026-06-01T00:00:00Z') });
    const [a, b] = [await make(), await make()];
    expect(JSON.stringify(a.world.users)).toBe(JSON.stringify(b.world.users));
    await b.close();
    sim = a;
    const w = sim.world;
    const added = w.addUser({ accounts: [w.accounts[0]!.id] });
    expect(w.users[2]).toBe(added);
    const cred = sim.issueCredential({ kind: 'user-token', user: 2 });
    expect(ids(await get(sim, '/accounts', auth(cred)))).toEqual([w.accounts[0]!.id]);
    const extra = w.addAccount();
    expect(ids(await get(sim, '/accounts?per_page=50'))).toEqual(w.accounts.map((x) => x.id));
    expect((await get(sim, `/accounts/${extra.id}/tokens?per_page=50`)).body.result.length).toBeGreaterThan(0);

    const gone = w.accounts[0]!.id;
    w.removeAccount(gone);
    expect(ids(await get(sim, '/accounts?per_page=50'))).not.toContain(gone);
    expect(ids(await get(sim, '/accounts', auth(cred)))).toEqual([]);
    for (const path of ['', '/members', '/tokens', '/roles', '/audit_logs', '/logs/audit?since=2000-01-01&before=2100-01-01']) {
      const r = await get(sim, `/accounts/${gone}${path}`);
      expect(errorOf(r), path).toEqual([404, 7003, `Could not route to /accounts/${gone}${path.split('?')[0]}, perhaps your object identifier is invalid?`]);
      // the v4 envelope from the edge; `result: null` only where the route's definitions allow it
      expect('result' in r.body).toBe(!path.includes('audit'));
    }
  });
});

describe('credential kinds', () => {
  it('user tokens (prefixed or not) stand for a token of their user; verify answers for that token', async () => {
    sim = await startSimulator({ seed: 2, rateLimit: false, size: { users: 2 } });
    const w = sim.world;
    const plain = sim.issueCredential({ kind: 'user-token', user: 1 });
    const prefixed = sim.issueCredential({ kind: 'user-token', user: 1, prefix: true, expiresOn: '2099-01-01T00:00:00Z' });
    expect(plain.kind === 'user-token' && /^[A-Za-z0-9_-]{40,}$/.test(plain.value) && !plain.value.startsWith('cfut_')).toBe(true);
    expect(prefixed.kind === 'user-token' && /^cfut_[A-Za-z0-9_-]{40,}$/.test(prefixed.value)).toBe(true);
    if (prefixed.kind !== 'user-token') throw new Error('kind');
    const token = w.users[1]!.tokens.find((t) => t.id === prefixed.tokenId)!;
    expect(token).toMatchObject({ name: 'flarewatch read-only', status: 'active', expires_on: '2099-01-01T00:00:00Z' });
    expect((await get(sim, '/user/tokens/verify', auth(prefixed))).body.result).toEqual({ id: prefixed.tokenId, status: 'active', expires_on: '2099-01-01T00:00:00Z' });
    expect(errorOf(await get(sim, `/accounts/${w.users[1]!.accountIds[0]}/tokens/verify`, auth(prefixed)))).toEqual([401, 1000, 'Invalid API Token']);
    // an existing token named by id: no new token; the credential dies with its token
    const existing = w.users[1]!.tokens[0]!;
    const named = sim.issueCredential({ kind: 'user-token', user: 1, tokenId: existing.id });
    expect(named.kind === 'user-token' && named.tokenId).toBe(existing.id);
    expect(w.users[1]!.tokens).toHaveLength(4 + 2);
    w.updateToken(existing.id, { status: 'disabled' });
    expect(errorOf(await get(sim, '/user', auth(named)))).toEqual([403, 9109, 'Invalid access token']);
    expect(errorOf(await get(sim, '/user/tokens/verify', auth(named)))).toEqual([401, 1000, 'Invalid API Token']);
    w.removeToken(prefixed.tokenId);
    expect((await get(sim, '/user', auth(prefixed))).status).toBe(403);
    expect((await get(sim, '/user', auth(plain))).status).toBe(200);
  });

  it('an account-owned token: /user 403 9109, user verify 401, /accounts one page whatever page, its own verify endpoint', async () => {
    sim = await startSimulator({ seed: 2, rateLimit: false, size: { accounts: 3 } });
    const w = sim.world;
    const own = w.accounts[1]!.id, other = w.accounts[0]!.id;
    const c = sim.issueCredential({ kind: 'account-token', account: own, prefix: true });
    if (c.kind !== 'account-token') throw new Error('kind');
    expect(c.value).toMatch(/^cfat_[A-Za-z0-9_-]{40,}$/);
    for (const path of ['/user', '/user/tokens', '/user/invites', '/user/audit_logs', '/user/subscriptions', '/user/billing/history']) {
      expect(errorOf(await get(sim, path, auth(c))), path).toEqual([403, 9109, 'Unauthorized to access requested resource']);
    }
    expect(errorOf(await get(sim, '/user/tokens/verify', auth(c)))).toEqual([401, 1000, 'Invalid API Token']);
    for (const page of [1, 2, 7]) {
      const r = await get(sim, `/accounts?page=${page}&per_page=5`, auth(c));
      expect([ids(r), r.body.result_info]).toEqual([[own], { page: 1, per_page: 5, count: 1, total_count: 1, total_pages: 1 }]);
    }
    expect((await get(sim, '/accounts', auth(c))).body.result_info.per_page).toBe(20);
    const listed = (await get(sim, `/accounts/${own}/tokens?per_page=50`, auth(c))).body.result.find((t: any) => t.id === c.tokenId);
    expect(listed).toMatchObject({ name: 'flarewatch read-only', creator_email_at_creation: w.user.email, provisioner_type: 'user', provisioner_id: w.user.id });
    expect((await get(sim, `/accounts/${own}/tokens/${c.tokenId}`, auth(c))).body.result.creator_email_at_creation).toBe(w.user.email);
    expect((await get(sim, `/accounts/${own}/tokens/verify`, auth(c))).body.result).toEqual({ id: c.tokenId, status: 'active' });
    expect(errorOf(await get(sim, `/accounts/${other}/tokens/verify`, auth(c)))).toEqual([401, 1000, 'Invalid API Token']);
    expect(errorOf(await get(sim, `/accounts/${other}/members`, auth(c)))).toEqual([403, 10000, 'Authentication error']);
    expect((await get(sim, `/accounts/${own}/members?per_page=50`, auth(c))).status).toBe(200);
    // the default user token is no account token either
    expect(errorOf(await get(sim, `/accounts/${own}/tokens/verify`))).toEqual([401, 1000, 'Invalid API Token']);
  });

  it('global keys act as their user, with no token to verify; deny lists are per credential', async () => {
    sim = await startSimulator({ seed: 2, rateLimit: false, size: { users: 2 }, credentials: { deny: ['GET /user/invites'] },
      extraCredentials: [{ kind: 'global-key', user: 1 }, { kind: 'global-key' }, { kind: 'user-token', deny: ['GET /user'] }] });
    const w = sim.world;
    const [key1, key0, denied] = sim.extraCredentials as [IssuedCredential, IssuedCredential, IssuedCredential];
    expect(key0).toEqual({ kind: 'global-key', email: sim.credentials.email, apiKey: sim.credentials.apiKey, userId: w.user.id });
    expect(sim.issueCredential({ kind: 'global-key', user: 1 })).toEqual(key1);
    expect((await get(sim, '/user', auth(key1))).body.result.id).toBe(w.users[1]!.user.id);
    expect(ids(await get(sim, '/accounts', auth(key1)))).toEqual(w.users[1]!.accountIds);
    expect(errorOf(await get(sim, '/user/tokens/verify', auth(key1)))).toEqual([401, 1000, 'Invalid API Token']);
    expect(errorOf(await get(sim, `/accounts/${w.users[1]!.accountIds[0]}/tokens/verify`, auth(key1)))).toEqual([401, 1000, 'Invalid API Token']);
    expect((await get(sim, '/user/invites', auth(key1))).status).toBe(200);
    expect(errorOf(await get(sim, '/user/invites', auth(key0)))).toEqual([403, 10000, 'Authentication error']);
    expect(errorOf(await get(sim, '/user/invites'))).toEqual([403, 10000, 'Authentication error']);
    expect(errorOf(await get(sim, '/user', auth(denied)))).toEqual([403, 10000, 'Authentication error']);
    expect((await get(sim, '/user/invites', auth(denied))).status).toBe(200);
  });

  it('a deny is lifted by allowRoutes (an administrator granting the permission back), for that credential only', async () => {
    sim = await startSimulator({ seed: 2, rateLimit: false, size: { users: 2 }, extraCredentials: [{ kind: 'user-token' }] });
    const [other] = sim.extraCredentials as [IssuedCredential];
    sim.denyRoutes('default', ['GET /user/invites']);
    sim.denyRoutes(other, ['GET /user/invites']);
    expect(errorOf(await get(sim, '/user/invites'))).toEqual([403, 10000, 'Authentication error']);
    sim.allowRoutes('default', ['GET /user/invites']);
    expect((await get(sim, '/user/invites')).status).toBe(200);
    expect(errorOf(await get(sim, '/user/invites', auth(other)))).toEqual([403, 10000, 'Authentication error']);
    expect(() => sim!.allowRoutes({ kind: 'user-token', value: 'nope', tokenId: 'x', userId: 'y' }, ['GET /user'])).toThrow('allow: no such credential');
  });
});

describe('rate limit per principal', () => {
  it('one bucket per user (its tokens and key share it) and one per account token; byPrincipal counts them', async () => {
    sim = await startSimulator({ seed: 4, size: { users: 2 }, rateLimit: { requests: 3, windowMs: 60_000 } });
    const w = sim.world;
    const a = sim.issueCredential({ kind: 'user-token', user: 1 });
    const b = sim.issueCredential({ kind: 'user-token', user: 1 });
    const key = sim.issueCredential({ kind: 'global-key', user: 1 });
    const acct = sim.issueCredential({ kind: 'account-token', account: w.accounts[0]!.id });
    const statuses = async (c: IssuedCredential, n: number) => { const out = []; for (let i = 0; i < n; i++) out.push((await get(sim!, '/accounts', auth(c))).status); return out; };
    expect([...await statuses(a, 2), ...await statuses(b, 1), ...await statuses(key, 1)]).toEqual([200, 200, 200, 429]);
    expect(await statuses(acct, 3)).toEqual([200, 200, 200]);
    expect((await get(sim, '/accounts')).status).toBe(200);
    await get(sim, '/accounts', {});
    const u1 = `user:${w.users[1]!.user.id}`, at = `account-token:${acct.kind === 'account-token' ? acct.tokenId : ''}`;
    expect(sim.stats.byPrincipal).toEqual({
      [u1]: { total: 4, byStatus: { 200: 3, 429: 1 } }, [at]: { total: 3, byStatus: { 200: 3 } },
      [`user:${w.user.id}`]: { total: 1, byStatus: { 200: 1 } }, '': { total: 1, byStatus: { 400: 1 } },
    });
    expect(sim.stats.log.map((l) => l.principal)).toEqual([u1, u1, u1, u1, at, at, at, `user:${w.user.id}`, '']);
    sim.stats.reset();
    expect(sim.stats.byPrincipal).toEqual({});
  });
});
