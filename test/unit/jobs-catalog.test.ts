import { describe, expect, it } from 'vitest';
import { secretKey } from '../../src/credentials/limiters.js';
import { limitKeyOf } from '../../src/credentials/access.js';
import { CatalogError, checkHandlers, JOB_CATALOG, JOB_NAMES, QUEUES } from '../../src/jobs/catalog.js';
import { HANDLERS } from '../../src/jobs/handlers.js';
import { checksJobId, syncJobId, tickLabel, tickOf } from '../../src/jobs/ids.js';
import { AUDIT_KINDS, INVENTORY_KINDS } from '../../src/jobs/schedules.js';
import { endpointLabel } from '../../src/ops/metrics.js';
import { ALL_KINDS } from '../../src/sync/catalog.js';

describe('job catalog', () => {
  it('has exactly one handler per job name, each on a known queue', () => {
    expect(() => checkHandlers(JOB_NAMES, HANDLERS)).not.toThrow();
    for (const name of JOB_NAMES) expect(QUEUES).toContain(JOB_CATALOG[name].queue);
  });

  it('refuses a missing, a doubled and an unknown handler, naming each', () => {
    const noop = async () => undefined;
    const registered = [['sync.stream', noop], ['sync.stream', noop], ['checks.run', noop], ['mystery', noop]] as const;
    let err: unknown;
    try {
      checkHandlers(JOB_NAMES, registered);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CatalogError);
    const problems = (err as CatalogError).problems;
    expect(problems).toContain('sync.stream: 2 handlers');
    expect(problems).toContain('alerts.deliver: no handler');
    expect(problems).toContain('mystery: handler for a job the catalog does not know');
  });

  it('validates payloads', () => {
    expect(JOB_CATALOG['sync.stream'].payload.safeParse({ stream: 'user', tick: '2030-01-01T00:05:00.000Z' }).success).toBe(true);
    expect(JOB_CATALOG['sync.stream'].payload.safeParse({ stream: '', tick: 'soon' }).success).toBe(false);
  });
});

describe('job ids', () => {
  it('are the same for every replica within a minute, and differ across minutes and streams', () => {
    const a = tickOf(new Date('2030-01-01T10:05:03.120Z'));
    const b = tickOf(new Date('2030-01-01T10:05:59.999Z'));
    expect(a).toBe('2030-01-01T10:05:00.000Z');
    expect(a).toBe(b);
    expect(tickLabel(a)).toBe('20300101T1005Z');
    const id = syncJobId('account-audit:0123abcd', a);
    expect(id).toBe('sync|account-audit@0123abcd|20300101T1005Z');
    expect(id).not.toContain(':');
    expect(syncJobId('account-audit:0123abcd', tickOf(new Date('2030-01-01T10:06:00Z')))).not.toBe(id);
    expect(checksJobId(a)).toBe('checks|20300101T1005Z');
  });

  it('split the stream kinds into audit and inventory schedules', () => {
    expect([...AUDIT_KINDS, ...INVENTORY_KINDS].sort()).toEqual([...ALL_KINDS].sort());
    expect(AUDIT_KINDS).toEqual(expect.arrayContaining(['user-audit', 'account-audit', 'account-audit-v1']));
  });
});

describe('shared rate limiter key and metrics labels', () => {
  it('keys an unidentified credential by a hash, never the credential; an identified one by what Cloudflare counts', () => {
    const token = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD';
    const key = secretKey({ apiToken: token });
    expect(key).toMatch(/^secret:[0-9a-f]{32}$/);
    expect(key).not.toContain(token.slice(0, 8));
    expect(secretKey({ apiToken: token })).toBe(key);
    expect(secretKey({ email: 'a@b.c', apiKey: 'k1' })).not.toBe(secretKey({ email: 'a@b.c', apiKey: 'k2' }));
    const config = { name: 'x', apiToken: token, accounts: [], rateLimit: undefined };
    const identity = { status: 'active', tokenId: 't1', expiresOn: null, notBefore: null, userEmail: null, verifiedAt: '' };
    expect(limitKeyOf({ config })).toBe(key);
    // Two tokens of one user share that user's budget; an account-owned token has its own.
    expect(limitKeyOf({ config, identity: { ...identity, kind: 'user-token', userId: 'u1', accountId: null } })).toBe('user:u1');
    expect(limitKeyOf({ config, identity: { ...identity, kind: 'account-token', userId: null, accountId: 'a1' } })).toBe('account-token:t1');
  });

  it('labels endpoints without object ids', () => {
    expect(endpointLabel('https://api.cloudflare.com/client/v4/accounts/0123456789abcdef0123456789abcdef/tokens?page=2')).toBe('/accounts/:id/tokens');
    expect(endpointLabel('http://127.0.0.1:9999/user/tokens')).toBe('/user/tokens');
  });
});
