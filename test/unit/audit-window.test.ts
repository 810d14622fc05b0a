import { describe, expect, it } from 'vitest';
import { type AuditWindow, planWindow, windowFraction } from '../../src/sync/audit-window.js';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = new Date('2026-03-01T12:00:00.000Z');
const settings = { overlapMs: 10 * MIN, lagMs: 2 * MIN, backfillMs: 548 * DAY };
const iso = (ms: number) => new Date(ms).toISOString();

describe('planWindow', () => {
  it('first run: from now − backfill to now − lag, at the start', () => {
    expect(planWindow(null, NOW, settings)).toEqual({
      since: iso(NOW.getTime() - 548 * DAY), before: iso(NOW.getTime() - 2 * MIN), next: {}, pages: 0, entries: 0,
    });
    expect(planWindow({}, NOW, settings)).toEqual(planWindow(null, NOW, settings));
  });

  it('first run with `since`: starts there instead of the backfill', () => {
    const since = new Date('2025-12-24T00:00:00Z');
    expect(planWindow(null, NOW, { ...settings, since })).toMatchObject({ since: since.toISOString(), before: iso(NOW.getTime() - 2 * MIN) });
  });

  it('later runs: from the watermark less the overlap; `since` and backfill no longer matter', () => {
    const watermark = iso(NOW.getTime() - 30 * MIN);
    const w = planWindow({ watermark }, NOW, { ...settings, since: new Date('2020-01-01T00:00:00Z') });
    expect(w).toEqual({ since: iso(NOW.getTime() - 40 * MIN), before: iso(NOW.getTime() - 2 * MIN), next: {}, pages: 0, entries: 0 });
  });

  it('an interrupted window is resumed as saved, whatever the clock says', () => {
    const saved: AuditWindow = { since: '2026-01-01T00:00:00.000Z', before: '2026-02-01T00:00:00.000Z', next: { cursor: 'abc' }, lastTime: '2026-01-15T00:00:00.000Z', pages: 7, entries: 7000 };
    expect(planWindow({ watermark: '2025-12-01T00:00:00.000Z', window: saved }, NOW, settings)).toBe(saved);
  });

  it('returns undefined when the window would be empty or inverted', () => {
    // Watermark at now − lag with no overlap: nothing new to read yet.
    expect(planWindow({ watermark: iso(NOW.getTime() - 2 * MIN) }, NOW, { ...settings, overlapMs: 0 })).toBeUndefined();
    // Clock behind the watermark (e.g. clock skew): never a window ending before it starts.
    expect(planWindow({ watermark: iso(NOW.getTime() + DAY) }, NOW, settings)).toBeUndefined();
    // `since` in the future.
    expect(planWindow(null, NOW, { ...settings, since: new Date(NOW.getTime() + MIN) })).toBeUndefined();
    // One millisecond is still a window.
    expect(planWindow({ watermark: iso(NOW.getTime() - 2 * MIN - 1) }, NOW, { ...settings, overlapMs: 0 })).toMatchObject({ since: iso(NOW.getTime() - 2 * MIN - 1) });
  });
});

describe('windowFraction', () => {
  const w = { since: '2026-01-01T00:00:00.000Z', before: '2026-01-11T00:00:00.000Z' };
  it('is the share of the window covered by the position', () => {
    expect(windowFraction(w, undefined)).toBe(0);
    expect(windowFraction(w, '2026-01-01T00:00:00.000Z')).toBe(0);
    expect(windowFraction(w, '2026-01-03T12:00:00.000Z')).toBeCloseTo(0.25, 10);
    expect(windowFraction(w, '2026-01-11T00:00:00.000Z')).toBe(1);
  });
  it('is clamped to [0, 1] and 1 for an empty window', () => {
    expect(windowFraction(w, '2025-12-01T00:00:00.000Z')).toBe(0);
    expect(windowFraction(w, '2026-02-01T00:00:00.000Z')).toBe(1);
    expect(windowFraction({ since: w.since, before: w.since }, w.since)).toBe(1);
  });
});
