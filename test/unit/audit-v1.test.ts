import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/simulator/prng.js';
import { advance, freshOf, type Reading, startState, toNext, type V1State } from '../../src/sync/audit-v1.js';

// The v1 keyset walk's state machine (src/sync/audit-v1.ts), and the argument of
// docs/audit-completeness.md checked against a model of Cloudflare's listing.

interface E { id: string; t: number }
const reading = (perPage: number, inWindow = (t: number) => t < 1e12): Reading => ({ perPage, timeOf: (i) => (i as E).t, inWindow });
const e = (id: string, t: number): E => ({ id, t });
const state = (since: number, seen: string[] = [], instant?: { at: number; page: number }): V1State => ({ since, seenAt: new Set(seen), instant });

describe('advance', () => {
  it('a short page ends the walk', () => {
    expect(advance(state(0), [e('a', 1), e('b', 2)], reading(3))).toBeUndefined();
  });

  it('a full page moves to its latest time, remembering the ids stored at it', () => {
    expect(advance(state(0), [e('a', 1), e('b', 5), e('c', 5)], reading(3))).toEqual(state(5, ['b', 'c']));
  });

  it('an entry outside the window (the year 2999) never becomes the position', () => {
    const r = reading(3, (t) => t < 100);
    expect(advance(state(0), [e('a', 1), e('b', 7), e('x', 32_503_680_000_000)], r)).toEqual(state(7, ['b']));
    expect(() => advance(state(0), [e('x', 1e15), e('y', 1e15), e('z', 1e15)], r)).toThrow(/no usable event time/);
  });

  it('a full page all at the position is an instant holding more than a page: paged on its own, then just after it', () => {
    const first = advance(state(5, ['a']), [e('a', 5), e('b', 5), e('c', 5)], reading(3))!;
    expect(first).toEqual(state(5, ['a', 'b', 'c'], { at: 5, page: 1 }));
    const page2 = advance(first, [e('a', 5), e('b', 5), e('c', 5)], reading(3))!;
    expect(page2.instant).toEqual({ at: 5, page: 2 });
    const end = advance(page2, [e('d', 5)], reading(3))!;
    expect(end).toEqual(state(6));
  });
});

describe('freshOf and checkpoints', () => {
  it('drops only the entries at the position that were stored before', () => {
    const items = [e('a', 5), e('b', 5), e('c', 6)];
    expect(freshOf(state(5, ['a']), items, reading(3))).toEqual([e('b', 5), e('c', 6)]);
    expect(freshOf(state(5, [], { at: 5, page: 2 }), items, reading(3))).toEqual(items);
  });

  it('round-trips through the checkpoint; a checkpoint of the page-numbered walk resumes from its last stored time', () => {
    const s = state(Date.parse('2026-01-01T00:00:05Z'), ['a'], { at: Date.parse('2026-01-01T00:00:05Z'), page: 3 });
    const window = { since: '2026-01-01T00:00:00.000Z', before: '2026-02-01T00:00:00.000Z', pages: 0, entries: 0 };
    expect(startState({ ...window, next: toNext(s) })).toEqual(s);
    expect(startState({ ...window, next: { page: 7 }, lastTime: '2026-01-10T00:00:00.000Z' }).since).toBe(Date.parse('2026-01-10T00:00:00.000Z'));
    expect(startState({ ...window, next: {} }).since).toBe(Date.parse(window.since));
  });
});

/**
 * A model of a v1 listing: entries sorted by (time, id) with ties; before each request the
 * oldest `ageOut` entries leave it (retention). The keyset walk must collect every entry that
 * was still listed when the walk finished, whatever the ties and the page size.
 */
function walkModel(seed: number, size: number, perPage: number, ageOut: number) {
  const rnd = mulberry32(seed);
  let t = 0;
  let listing: E[] = Array.from({ length: size }, (_, i) => {
    if (rnd() < 0.6) t += 1 + Math.floor(rnd() * 3);
    return e(`e${String(i).padStart(5, '0')}`, t);
  });
  // One instant holding more than two pages, to exercise the instant paging.
  const big = t + 1;
  listing.push(...Array.from({ length: perPage * 2 + 1 }, (_, i) => e(`z${i}`, big)));
  listing.sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : 1));
  const r = reading(perPage);
  const got = new Set<string>();
  let s: V1State | undefined = state(-Infinity);
  let requests = 0;
  while (s && requests < 10_000) {
    listing = listing.slice(ageOut);
    requests += 1;
    const cur: V1State = s;
    const page = cur.instant
      ? listing.filter((x) => x.t === cur.instant!.at).slice((cur.instant.page - 1) * perPage, cur.instant.page * perPage)
      : listing.filter((x) => x.t >= cur.since).slice(0, perPage);
    for (const x of freshOf(cur, page, r) as E[]) got.add(x.id);
    s = advance(cur, page, r);
  }
  return { got, remaining: listing, requests };
}

describe('the walk by time against a listing that ages out under it', () => {
  for (const [seed, size, perPage, ageOut] of [[1, 500, 10, 0], [2, 800, 7, 3], [3, 1000, 25, 9], [4, 300, 5, 1]] as const) {
    it(`seed ${seed}: ${size} entries, pages of ${perPage}, ${ageOut} aging out per request: every entry still listed is seen`, () => {
      const { got, remaining, requests } = walkModel(seed, size, perPage, ageOut);
      expect(remaining.filter((x) => !got.has(x.id))).toEqual([]);
      expect(requests).toBeLessThan(10_000);
    });
  }

  it('while a page-numbered walk of the same listing skips entries', () => {
    const rnd = mulberry32(9);
    let listing = Array.from({ length: 500 }, (_, i) => e(`e${i}`, i + Math.floor(rnd() * 2)));
    const got = new Set<string>();
    for (let page = 1; ; page++) {
      listing = listing.slice(3);
      const items = listing.slice((page - 1) * 10, page * 10);
      items.forEach((x) => got.add(x.id));
      if (items.length < 10) break;
    }
    expect(listing.filter((x) => !got.has(x.id)).length).toBeGreaterThan(20);
  });
});
