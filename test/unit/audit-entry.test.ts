import { describe, expect, it } from 'vitest';
import { mapAuditEntry } from '../../src/sync/audit-entry.js';

const v1 = {
  id: 'b1c2d3e4-0001-4abc-adef-0123456789ab',
  action: { type: 'rec_set', result: true },
  actor: { id: 'u1', email: 'owen@example.com', ip: '192.0.2.10', type: 'user' },
  interface: 'API',
  metadata: { zone_name: 'example.com', zone_id: 'z1' },
  newValue: '', oldValue: '',
  owner: { id: 'owner-1' },
  resource: { id: 'r1', type: 'DNS_record' },
  when: '2026-02-01T10:20:30Z',
};

const v2 = {
  id: '0123456789abcdef0123456789abcdef',
  account: { id: 'acct-1', name: 'Acme Corp' },
  action: { description: 'DNS record changed', result: 'success', time: '2026-02-01T10:20:30.123Z', type: 'update' },
  actor: { id: 'u1', email: 'owen@example.com', ip_address: '2001:db8::1f', context: 'api_token', token_id: 't1', token_name: 'terraform', type: 'user' },
  raw: { cf_ray_id: 'ray', method: 'PUT', status_code: 200, uri: '/x', user_agent: 'curl/8.7.1' },
  resource: { id: 'r1', product: 'dns_records', scope: {}, type: 'dns_record' },
  zone: { id: 'z1', name: 'example.com' },
};

describe('mapAuditEntry', () => {
  it('maps a v1 account entry onto the common columns, keeping the raw object', () => {
    const m = mapAuditEntry('account_v1', 'acct-9', v1);
    expect(m).toEqual({
      ok: true,
      row: {
        source: 'account_v1', id: v1.id, eventTime: new Date('2026-02-01T10:20:30Z'),
        accountId: 'acct-9', accountName: null,
        actionType: 'rec_set', actionResult: 'success', actionDescription: null,
        actorId: 'u1', actorEmail: 'owen@example.com', actorIp: '192.0.2.10', actorType: 'user',
        actorContext: null, actorTokenId: null, actorTokenName: null, interface: 'API',
        resourceType: 'DNS_record', resourceId: 'r1', resourceProduct: null, resourceScope: null,
        zoneId: 'z1', zoneName: 'example.com', raw: v1,
      },
    });
  });

  it('user v1: the account is the owner; a false result is a failure', () => {
    const m = mapAuditEntry('user_v1', null, { ...v1, action: { type: 'login', result: false } });
    expect(m.ok && m.row).toMatchObject({ source: 'user_v1', accountId: 'owner-1', actionType: 'login', actionResult: 'failure' });
  });

  it('maps a v2 entry: time from action.time (with milliseconds), account from the entry', () => {
    const m = mapAuditEntry('account_v2', 'acct-fallback', v2);
    expect(m).toEqual({
      ok: true,
      row: {
        source: 'account_v2', id: v2.id, eventTime: new Date('2026-02-01T10:20:30.123Z'),
        accountId: 'acct-1', accountName: 'Acme Corp',
        actionType: 'update', actionResult: 'success', actionDescription: 'DNS record changed',
        actorId: 'u1', actorEmail: 'owen@example.com', actorIp: '2001:db8::1f', actorType: 'user',
        actorContext: 'api_token', actorTokenId: 't1', actorTokenName: 'terraform', interface: null,
        resourceType: 'dns_record', resourceId: 'r1', resourceProduct: 'dns_records', resourceScope: null,
        zoneId: 'z1', zoneName: 'example.com', raw: v2,
      },
    });
    const noAccount = mapAuditEntry('account_v2', 'acct-fallback', { ...v2, account: undefined });
    expect(noAccount.ok && noAccount.row.accountId).toBe('acct-fallback');
  });

  it('accepts RFC 3339 offsets and converts them to the same instant', () => {
    const m = mapAuditEntry('user_v1', null, { ...v1, when: '2026-02-01T12:20:30+02:00' });
    expect(m.ok && m.row.eventTime.toISOString()).toBe('2026-02-01T10:20:30.000Z');
    const leap = mapAuditEntry('user_v1', null, { ...v1, when: '2024-02-29T23:59:59.999999Z' });
    expect(leap.ok && leap.row.eventTime.toISOString()).toBe('2024-02-29T23:59:59.999Z');
    const dec = mapAuditEntry('user_v1', null, { ...v1, when: '2025-12-31T23:00:00-01:00' });
    expect(dec.ok && dec.row.eventTime.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('rejects an entry without a usable id', () => {
    const { id: _id, ...noId } = v1;
    expect(mapAuditEntry('account_v1', 'a', noId)).toEqual({ ok: false, reason: 'entry has no id' });
    expect(mapAuditEntry('account_v1', 'a', { ...v1, id: '  ' })).toEqual({ ok: false, reason: 'entry has no id' });
    expect(mapAuditEntry('account_v2', 'a', { ...v2, id: 42 })).toEqual({ ok: false, reason: 'entry has no id' });
  });

  it('rejects what is not an object', () => {
    for (const bad of [null, 'x', 3, [v1]]) expect(mapAuditEntry('user_v1', null, bad)).toEqual({ ok: false, reason: 'entry is not an object' });
  });

  it('rejects bad timestamps, naming the entry and the value', () => {
    const cases: Array<[unknown, string]> = [
      ['not-a-date', '"not-a-date"'],
      ['2024-13-45T25:61:00Z', '"2024-13-45T25:61:00Z"'], // right shape, impossible date
      ['2026-02-01', '"2026-02-01"'], // date only: not an event time
      ['2026-02-01 10:20:30Z', '"2026-02-01 10:20:30Z"'],
      ['2026-02-01T10:20:30', '"2026-02-01T10:20:30"'], // no zone
      [1_767_225_600_000, '1767225600000'],
      // Shapes Date() would silently roll over into another instant.
      ['2026-02-30T10:00:00Z', '"2026-02-30T10:00:00Z"'],
      ['2026-02-29T10:00:00Z', '"2026-02-29T10:00:00Z"'],
      ['2026-04-31T10:00:00Z', '"2026-04-31T10:00:00Z"'],
      ['2026-02-01T24:00:00Z', '"2026-02-01T24:00:00Z"'],
    ];
    for (const [when, shown] of cases) {
      expect(mapAuditEntry('account_v1', 'a', { ...v1, when }), String(when)).toEqual({ ok: false, reason: `entry ${v1.id} has an invalid timestamp: ${shown}` });
    }
    expect(mapAuditEntry('user_v1', null, { ...v1, when: undefined })).toEqual({ ok: false, reason: `entry ${v1.id} has an invalid timestamp: null` });
    // v2 reads action.time, not `when`.
    expect(mapAuditEntry('account_v2', 'a', { ...v2, when: '2026-02-01T10:20:30Z', action: { ...v2.action, time: '2026-02-01' } })).toEqual({
      ok: false, reason: `entry ${v2.id} has an invalid timestamp: "2026-02-01"`,
    });
    expect(mapAuditEntry('account_v2', 'a', { ...v2, action: { ...v2.action, time: '2024-13-45T25:61:00Z' } }).ok).toBe(false);
  });
});
