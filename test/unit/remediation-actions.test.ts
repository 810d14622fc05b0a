import { describe, expect, it } from 'vitest';
import { ActionRefused, buildAction, fullTokenBody, reached, stateMoved, undoExpect, undoRequest } from '../../src/remediation/actions.js';
import type { Target } from '../../src/remediation/targets.js';

const target: Target = { objectKey: 'token:t1', type: 'token', accountId: 'a1', resourceId: 't1', path: '/accounts/a1/tokens/t1', label: 'ci' };
const token = {
  id: 't1', name: 'ci', status: 'active', issued_on: '2025-01-01T00:00:00Z', modified_on: '2026-01-01T00:00:00Z', last_used_on: '2026-01-02T00:00:00Z',
  expires_on: '2027-01-01T00:00:00Z', condition: { request_ip: { in: ['192.0.2.0/24'] } },
  policies: [{ id: 'p1', effect: 'allow', permission_groups: [{ id: 'g1', name: 'DNS Write' }, { id: 'g2', name: 'Zone Read' }], resources: { 'com.cloudflare.api.account.a1': '*' } }],
};

describe('token actions are full-object PUTs', () => {
  it('disable keeps name, policies, condition and expiry, and drops read-only fields', () => {
    const a = buildAction('token-disable', target, token);
    expect(a.request).toEqual({ method: 'PUT', path: target.path, body: {
      name: 'ci', status: 'disabled', expires_on: token.expires_on, condition: token.condition,
      policies: [{ id: 'p1', effect: 'allow', permission_groups: [{ id: 'g1' }, { id: 'g2' }], resources: token.policies[0]!.resources }] } });
    expect(a.precondition).toEqual({ modified_on: token.modified_on, fields: { status: 'active' } });
    expect(a).toMatchObject({ reversible: true, destructive: true });
  });

  it('narrow takes suggested policies in API shape; its precondition is the current policies', () => {
    const suggested = [{ effect: 'allow' as const, permission_groups: [{ id: 'g2', name: 'Zone Read' }], resources: { 'com.cloudflare.api.account.a1': '*' } }];
    const a = buildAction('token-narrow', target, token, { policies: suggested });
    expect((a.request.body as { policies: unknown }).policies).toEqual([{ effect: 'allow', permission_groups: [{ id: 'g2' }], resources: suggested[0]!.resources }]);
    expect(reached(a.expect, { ...token, policies: [{ ...suggested[0], id: 'new' }] })).toBe(true);
    expect(reached(a.expect, token)).toBe(false);
    expect(() => buildAction('token-narrow', target, token)).toThrow(ActionRefused);
  });

  it('refuses what does not fit: deleting an active token, an expiry on a token that has one, disabling a disabled token', () => {
    expect(() => buildAction('token-delete', target, token, { now: Date.parse('2026-06-01T00:00:00Z') })).toThrow(/only an expired or disabled token/);
    expect(buildAction('token-delete', target, token, { now: Date.parse('2027-06-01T00:00:00Z') }).reversible).toBe(false);
    expect(() => buildAction('token-set-expiry', target, token, { expiresOn: '2028-01-01T00:00:00Z' })).toThrow(/already expires/);
    expect(() => buildAction('token-disable', target, { ...token, status: 'disabled' })).toThrow(/already disabled/);
    expect(() => buildAction('member-remove', target, token)).toThrow(/does not apply to a token/);
  });
});

describe('state checks', () => {
  const pre = buildAction('token-disable', target, token).precondition;
  it('a moved modified_on, a changed field or a deleted object is a moved state; the same state is not', () => {
    expect(stateMoved(pre, token)).toBeUndefined();
    expect(stateMoved(pre, { ...token, modified_on: '2026-02-01T00:00:00Z' })).toMatch(/modified_on moved from 2026-01-01T00:00:00Z to 2026-02-01T00:00:00Z/);
    expect(stateMoved({ ...pre, modified_on: null }, { ...token, status: 'disabled' })).toBe('status changed since the plan');
    expect(stateMoved(pre, null)).toBe('the object no longer exists');
  });

  it('undo restores every field it controls from the before-state, clearing what the token did not have', () => {
    const before = { ...token, expires_on: undefined, condition: undefined };
    const req = undoRequest(target.path, before);
    expect(req.body).toEqual(fullTokenBody(before));
    expect(req.body).not.toHaveProperty('expires_on');
    expect(reached(undoExpect(before), { ...before, modified_on: 'later' })).toBe(true);
    expect(reached(undoExpect(before), { ...before, expires_on: '2027-01-01T00:00:00Z' })).toBe(false);
  });
});
