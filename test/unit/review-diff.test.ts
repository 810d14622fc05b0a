import { describe, expect, it } from 'vitest';
import type { Review, ReviewDecision, ReviewItem } from '../../src/db/schema/index.js';
import { diffReviews } from '../../src/review/diff.js';
import { buildEvidence } from '../../src/review/evidence.js';

const token = (id: string, s: Record<string, unknown>): ReviewItem => ({
  reviewId: 1, itemKey: `token:${id}`, kind: 'token', accountId: 'acc', label: String(s.name ?? id),
  snapshot: { name: id, status: 'active', owner: 'account acc', grants: ['allow DNS Read on zone.*'], expires_on: null, not_before: null, ip_allow: [], ip_deny: [], last_used_on: null, ...s },
});

describe('diffReviews', () => {
  it('a changed grant or expiry is a change, with before and after; a new last use is not', () => {
    const before = [token('a', {}), token('b', {}), token('c', {})];
    const after = [
      token('a', { grants: ['allow DNS Read on zone.*', 'allow DNS Write on zone.*'], last_used_on: '2026-01-02T00:00:00Z' }),
      token('b', { last_used_on: '2026-01-03T00:00:00Z' }),
      token('d', {}),
    ];
    const diff = diffReviews(before, after);
    expect(diff.added.map((i) => i.key)).toEqual(['token:d']);
    expect(diff.removed.map((i) => i.key)).toEqual(['token:c']);
    expect(diff.changed).toEqual([{
      key: 'token:a', kind: 'token', account_id: 'acc', label: 'a',
      changes: [{ field: 'grants', before: ['allow DNS Read on zone.*'], after: ['allow DNS Read on zone.*', 'allow DNS Write on zone.*'] }],
    }]);
  });

  it('the same roles in another order are no change', () => {
    const m = (roles: string[]): ReviewItem => ({ reviewId: 1, itemKey: 'member:acc:1', kind: 'member', accountId: 'acc', label: 'x@example.com', snapshot: { status: 'accepted', roles, policies: [], two_factor_enabled: true } });
    expect(diffReviews([m(['A', 'B'])], [m(['B', 'A'])]).changed).toEqual([]);
    expect(diffReviews([m(['A'])], [m(['A', 'Super Administrator - All Privileges'])]).changed[0]!.changes.map((c) => c.field)).toEqual(['roles']);
  });
});

describe('buildEvidence', () => {
  const review: Review = { id: 7, name: 'r', accounts: null, startedAt: new Date('2026-01-01T00:00:00Z'), startedBy: null, freshness: [], previousId: null };
  const d = (id: number, decision: 'keep' | 'revoke', at: string): ReviewDecision => ({ id, reviewId: 7, itemKey: 'token:a', decision, decidedBy: `r${id}`, decidedAt: new Date(at), note: null, chainSeq: id, prevHash: '', rowHash: `h${id}` });

  it('the latest decision is in force whatever order they are read in, and the pack (and its digest) is the same', () => {
    const ds = [d(1, 'keep', '2026-01-02T00:00:00Z'), d(2, 'revoke', '2026-01-03T00:00:00Z')];
    const a = buildEvidence(review, [token('a', {}), token('b', {})], [], ds);
    const b = buildEvidence(review, [token('b', {}), token('a', {})], [], [...ds].reverse());
    expect(a).toEqual(b);
    expect(a.items.find((i) => i.key === 'token:a')!.decision).toMatchObject({ decision: 'revoke', by: 'r2' });
    expect(a.summary).toMatchObject({ items: 2, decided: 1, revoke: 1, undecided: 1, decisions_through: '2026-01-03T00:00:00Z' });
    expect(buildEvidence(review, [token('a', {}), token('b', {})], [], ds.slice(0, 1)).digest).not.toBe(a.digest);
  });
});
