import { describe, expect, it } from 'vitest';
import { type Coverage, coverageProblem, evidenceAccounts, evidenceEnd, MAX_ARCHIVE_LAG_MS } from '../../src/access/evidence.js';

const DAY = 86_400_000;
const NOW = new Date('2026-12-07T12:00:00Z');
const START = new Date(NOW.getTime() - 90 * DAY);
const ZONE = 'com.cloudflare.api.account.zone';
const ACCT = 'com.cloudflare.api.account';
const pol = (resources: Record<string, unknown>, effect = 'allow') => [{ effect, permission_groups: [], resources }];
const cov = (id: string, fromDaysAgo: number, toDaysAgo = 0, gaps: string[] = []): [string, Coverage] =>
  [id, { account_id: id, covered_from: new Date(NOW.getTime() - fromDaysAgo * DAY), covered_to: new Date(NOW.getTime() - toDaysAgo * DAY), gap_days: gaps }];

describe('evidenceAccounts', () => {
  const zones = new Map([['z1', 'a1'], ['z2', 'a2']]);
  const all = ['a1', 'a2', 'a3'];

  it('an account-owned token acts in its own account only', () => {
    expect(evidenceAccounts({ owner_type: 'account', account_id: 'a2', policies: pol({ [`${ACCT}.*`]: '*' }) }, zones, all)).toEqual(['a2']);
  });

  it('a user token: the accounts its allow policies name, and the accounts of its zones', () => {
    const policies = [...pol({ [`${ZONE}.z2`]: '*' }), ...pol({ [`${ACCT}.a1`]: { [`${ZONE}.z1`]: '*' } }), ...pol({ [`${ACCT}.a3`]: '*' }, 'deny')];
    expect(evidenceAccounts({ owner_type: 'user', account_id: null, policies }, zones, all)).toEqual(['a1', 'a2']);
  });

  it('a wildcard, or a zone not inventoried, reaches every watched account', () => {
    expect(evidenceAccounts({ owner_type: 'user', account_id: null, policies: pol({ [`${ZONE}.*`]: '*' }) }, zones, all)).toEqual(all);
    expect(evidenceAccounts({ owner_type: 'user', account_id: null, policies: pol({ [`${ZONE}.z9`]: '*' }) }, zones, all)).toEqual(all);
  });

  it('user-level resources reach no account log', () => {
    expect(evidenceAccounts({ owner_type: 'user', account_id: null, policies: pol({ 'com.cloudflare.api.user.u1': '*' }) }, zones, all)).toEqual([]);
  });
});

describe('coverageProblem', () => {
  it('none when every account is archived from before the window to now, without gaps', () => {
    expect(coverageProblem(['a1', 'a2'], new Map([cov('a1', 120), cov('a2', 91)]), START, NOW)).toBeUndefined();
  });

  it('an account whose archive begins inside the window, or was never walked', () => {
    expect(coverageProblem(['a1'], new Map([cov('a1', 10)]), START, NOW)).toMatch(/^account a1: the archive holds its audit log v2 from .* only/);
    expect(coverageProblem(['a1', 'a2'], new Map([cov('a1', 120)]), START, NOW)).toBe('account a2: its audit log v2 has not been archived');
    expect(coverageProblem([], new Map(), START, NOW)).toMatch(/reaches no account/);
  });

  it('an archive more than a day behind now', () => {
    expect(coverageProblem(['a1'], new Map([cov('a1', 120, 2)]), START, NOW)).toMatch(/stops at/);
    expect(coverageProblem(['a1'], new Map([cov('a1', 120, (MAX_ARCHIVE_LAG_MS - 60_000) / DAY)]), START, NOW)).toBeUndefined();
  });

  it('a gap day inside the window counts; one before it does not', () => {
    expect(coverageProblem(['a1'], new Map([cov('a1', 200, 0, ['2026-11-01'])]), START, NOW)).toMatch(/missing from the archive on 2026-11-01/);
    expect(coverageProblem(['a1'], new Map([cov('a1', 200, 0, ['2026-01-01'])]), START, NOW)).toBeUndefined();
  });
});

describe('evidenceEnd', () => {
  it('the earliest watermark of the accounts, never after now', () => {
    expect(evidenceEnd(['a1', 'a2'], new Map([cov('a1', 120, 0.5), cov('a2', 120, 0.1)]), NOW)).toEqual(new Date(NOW.getTime() - 0.5 * DAY));
  });
});
