import { describe, expect, it } from 'vitest';
import { rawOf } from '../../src/sync/fields.js';
import { tokenRow } from '../../src/sync/token-row.js';

const base = {
  id: 'tok1',
  name: 'ci',
  status: 'active',
  issued_on: '2024-01-02T03:04:05Z',
  modified_on: '2024-02-02T03:04:05Z',
  expires_on: '2025-01-01T00:00:00Z',
  policies: [{ id: 'p', effect: 'allow', permission_groups: [], resources: {} }],
};

describe('tokenRow', () => {
  it('reads the IP condition from request_ip (current spec)', () => {
    const row = tokenRow({ ...base, condition: { request_ip: { in: ['192.0.2.0/24'], not_in: ['192.0.2.7/32'] } } }, { ownerType: 'user', accountId: null, userId: 'u1' });
    expect(row).toMatchObject({ id: 'tok1', ownerType: 'user', accountId: null, name: 'ci', status: 'active', ipAllow: ['192.0.2.0/24'], ipDeny: ['192.0.2.7/32'] });
    expect(row.expiresOn?.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(row.issuedOn?.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(row.lastUsedOn).toBeNull();
    expect(row.policies).toEqual(base.policies);
  });

  it('reads the legacy "request.ip" key too', () => {
    const row = tokenRow({ ...base, condition: { 'request.ip': { in: ['198.51.100.0/24'] } } }, { ownerType: 'account', accountId: 'acc', userId: null });
    expect(row).toMatchObject({ ownerType: 'account', accountId: 'acc', ipAllow: ['198.51.100.0/24'], ipDeny: null });
  });

  it('no condition, odd fields: nulls, never an exception', () => {
    const row = tokenRow({ id: 't2', expires_on: 'not a date', condition: { request_ip: { in: 'x' } }, policies: 'nope' }, { ownerType: 'user', accountId: null, userId: 'u1' });
    expect(row).toMatchObject({ name: null, status: null, expiresOn: null, ipAllow: null, ipDeny: null, policies: [] });
    expect(tokenRow({ id: 't3' }, { ownerType: 'user', accountId: null, userId: 'u1' })).toMatchObject({ ipAllow: null, ipDeny: null });
    // Non-string entries of a CIDR list are dropped.
    expect(tokenRow({ id: 't4', condition: { request_ip: { in: ['10.0.0.0/8', 5, null] } } }, { ownerType: 'user', accountId: null, userId: 'u1' }).ipAllow).toEqual(['10.0.0.0/8']);
  });

  it('raw never carries the token secret', () => {
    const row = tokenRow({ ...base, value: 'the-secret' }, { ownerType: 'user', accountId: null, userId: 'u1' });
    expect(row.raw).not.toHaveProperty('value');
    expect(JSON.stringify(row)).not.toContain('the-secret');
  });
});

describe('rawOf', () => {
  it('strips value and keeps everything else', () => {
    const item = { id: 'x', name: 'n', value: 'secret', nested: { value: 'kept: not a token secret' } };
    expect(rawOf(item)).toEqual({ id: 'x', name: 'n', nested: { value: 'kept: not a token secret' } });
    expect(item.value).toBe('secret'); // the input is not mutated
  });

  it('returns an object without value as it is', () => {
    const item = { id: 'x' };
    expect(rawOf(item)).toBe(item);
  });
});
