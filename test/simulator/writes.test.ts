import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { iamValidator } from './iam-spec.js';

// The write endpoints remediation sends, against their documented semantics (API notes section 11)
// and openapi-iam.json: request bodies and answers validate; PUT replaces; DELETE then GET is 404;
// a roll kills the old secret; every write is in the audit logs with the token that made it.

let sim: Simulator;
const T = Date.parse('2026-06-01T10:00:00Z');
const clock = { t: T };
beforeAll(async () => { sim = await startSimulator({ seed: 19, rateLimit: false, now: () => clock.t, size: { accounts: 1, accountAuditEntries: 5, accountAuditV1Entries: 5, userAuditEntries: 5 } }); });
afterAll(async () => { await sim.close(); });

const bearer = (s: Simulator) => ({ authorization: `Bearer ${s.credentials.apiToken}` });
async function get(s: Simulator, path: string, headers: Record<string, string> = bearer(s)) {
  const res = await fetch(s.url + path, { headers });
  return { status: res.status, body: JSON.parse(await res.text()) as any };
}
async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = bearer(sim)) {
  const res = await fetch(sim.url + path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: JSON.parse(await res.text()) as any };
}
const fullBody = (t: any) => ({ name: t.name, policies: t.policies.map((p: any) => ({ id: p.id, effect: p.effect, permission_groups: p.permission_groups.map((g: any) => ({ id: g.id })), resources: p.resources })) });

describe('token PUT', () => {
  it('refuses a body without name and policies (IAM error envelope), and changes nothing', async () => {
    const a = sim.world.accounts[0]!.id;
    const t = sim.world.addAccountToken(a, { expires_on: '2027-01-01T00:00:00Z' });
    const before = JSON.stringify(sim.world.accountTokens(a).find((x) => x.id === t.id));
    const path = `/accounts/${a}/tokens/${t.id}`;
    expect(iamValidator('PUT', '/accounts/{account_id}/tokens/{token_id}', 'request')({ status: 'disabled' })).not.toEqual([]);
    const res = await send('PUT', path, { status: 'disabled' });
    expect(res.status).toBe(400);
    expect(iamValidator('PUT', '/accounts/{account_id}/tokens/{token_id}', '4XX')(res.body)).toEqual([]);
    expect(res.body.errors[0].message).toMatch(/name is required/);
    expect(JSON.stringify(sim.world.accountTokens(a).find((x) => x.id === t.id))).toBe(before);
  });

  it('replaces, never merges: omitted optional fields are cleared, modified_on moves', async () => {
    const a = sim.world.accounts[0]!.id;
    const t = sim.world.addAccountToken(a, { expires_on: '2027-01-01T00:00:00Z', not_before: '2026-01-01T00:00:00Z', condition: { request_ip: { in: ['192.0.2.0/24'] } } });
    clock.t += 60_000;
    const body = { ...fullBody(t), status: 'disabled' };
    expect(iamValidator('PUT', '/accounts/{account_id}/tokens/{token_id}', 'request')(body)).toEqual([]);
    const res = await send('PUT', `/accounts/${a}/tokens/${t.id}`, body);
    expect(res.status).toBe(200);
    expect(iamValidator('PUT', '/accounts/{account_id}/tokens/{token_id}', '200')(res.body)).toEqual([]);
    const got = (await get(sim, `/accounts/${a}/tokens/${t.id}`)).body.result;
    expect(got.status).toBe('disabled');
    expect(got).not.toHaveProperty('expires_on');
    expect(got).not.toHaveProperty('not_before');
    expect(got).not.toHaveProperty('condition');
    expect(got.modified_on).toBe(new Date(clock.t).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    expect(got.modified_on).not.toBe(t.modified_on);
    expect(got.policies.map((p: any) => p.permission_groups.map((g: any) => g.name))).toEqual(t.policies.map((p) => p.permission_groups.map((g) => g.name)));
  });

  it('user tokens too; DELETE then GET is 404', async () => {
    const t = sim.world.addUserToken();
    const put = await send('PUT', `/user/tokens/${t.id}`, { ...fullBody(t), expires_on: '2027-02-01T00:00:00Z' });
    expect(put.status).toBe(200);
    expect(iamValidator('PUT', '/user/tokens/{token_id}', '200')(put.body)).toEqual([]);
    const del = await send('DELETE', `/user/tokens/${t.id}`);
    expect(del.status).toBe(200);
    expect(iamValidator('DELETE', '/user/tokens/{token_id}', '200')(del.body)).toEqual([]);
    expect(del.body.result).toEqual({ id: t.id });
    expect((await get(sim, `/user/tokens/${t.id}`)).status).toBe(404);
  });
});

describe('roll', () => {
  it('answers a new secret; the old one stops authenticating, the new one works', async () => {
    const a = sim.world.accounts[0]!.id;
    const cred = sim.issueCredential({ kind: 'account-token', account: 0 });
    const old = { authorization: `Bearer ${cred.kind === 'account-token' ? cred.value : ''}` };
    expect((await get(sim, `/accounts/${a}/tokens/verify`, old)).status).toBe(200);
    const res = await send('PUT', `/accounts/${a}/tokens/${cred.kind === 'account-token' ? cred.tokenId : ''}/value`, {});
    expect(res.status).toBe(200);
    expect(iamValidator('PUT', '/accounts/{account_id}/tokens/{token_id}/value', '200')(res.body)).toEqual([]);
    expect(typeof res.body.result).toBe('string');
    expect((await get(sim, `/accounts/${a}/tokens/verify`, old)).status).toBe(401);
    expect((await get(sim, `/accounts/${a}/tokens/verify`, { authorization: `Bearer ${res.body.result}` })).status).toBe(200);
  });
});

describe('members, invitations, groups', () => {
  it('removes a pending member (an invitation); rejects a user invitation; removes a group member', async () => {
    const a = sim.world.accounts[0]!.id;
    const pending = sim.world.addMember(a, { status: 'pending' });
    const del = await send('DELETE', `/accounts/${a}/members/${pending.id}`);
    expect(del.status).toBe(200);
    expect(iamValidator('DELETE', '/accounts/{account_id}/members/{member_id}', '200')(del.body)).toEqual([]);
    expect((await get(sim, `/accounts/${a}/members/${pending.id}`)).status).toBe(404);

    const invite = sim.world.userInvites.find((i) => i.status === 'pending')!;
    const bad = await send('PATCH', `/user/invites/${String(invite.id)}`, { status: 'maybe' });
    expect(bad.status).toBe(400);
    const body = { status: 'rejected' };
    expect(iamValidator('PATCH', '/user/invites/{invite_id}', 'request')(body)).toEqual([]);
    const patched = await send('PATCH', `/user/invites/${String(invite.id)}`, body);
    expect(patched.status).toBe(200);
    expect(iamValidator('PATCH', '/user/invites/{invite_id}', '200')(patched.body)).toEqual([]);
    expect((await get(sim, `/user/invites/${String(invite.id)}`)).body.result.status).toBe('rejected');

    const member = sim.world.members(a).find((m) => m.status === 'accepted' && m.email !== sim.credentials.email)!;
    const g = sim.world.access.addUserGroup(a, { name: 'ops' });
    sim.world.access.addGroupMember(a, g.id, member.id);
    const gm = await send('DELETE', `/accounts/${a}/iam/user_groups/${g.id}/members/${member.id}`);
    expect(gm.status).toBe(200);
    expect(iamValidator('DELETE', '/accounts/{account_id}/iam/user_groups/{user_group_id}/members/{member_id}', '200')(gm.body)).toEqual([]);
    expect((await get(sim, `/accounts/${a}/iam/user_groups/${g.id}/members/${member.id}`)).status).toBe(404);
  });
});

describe('audit and the write counter', () => {
  it('every write is in v2 (with the token that made it) and v1; the counter counts every non-GET request', async () => {
    sim.stats.reset();
    const a = sim.world.accounts[0]!.id;
    const t = sim.world.addAccountToken(a);
    await send('PUT', `/accounts/${a}/tokens/${t.id}`, { ...fullBody(t), status: 'disabled' });
    await send('PUT', `/accounts/${a}/tokens/${t.id}`, { status: 'disabled' });
    await get(sim, `/accounts/${a}/tokens/${t.id}`);
    expect(sim.stats.writes).toEqual({ [`PUT /client/v4/accounts/${a}/tokens/${t.id}`]: 2 });
    expect(sim.stats.writeTotal).toBe(2);
    const v2 = [...sim.world.auditStream('account-v2', a).entries()].filter((e: any) => e.resource?.id === t.id);
    expect(v2).toHaveLength(1);
    expect((v2[0] as any).actor.token_id).toBe(sim.world.credentialTokenId);
    expect((v2[0] as any).action.type).toBe('update');
    const v1 = [...sim.world.auditStream('account-v1', a).entries()].filter((e: any) => e.resource?.id === t.id);
    expect(v1).toHaveLength(1);
    expect(JSON.parse((v1[0] as any).newValue).status).toBe('disabled');
  });
});
