/** A closed time window [since, before) an audit stream is walked over, with where the walk is in it. */
export interface AuditWindow {
  since: string;
  before: string;
  /**
   * Where the next request starts. v1 walks by time (keyset): `since` is the event time to ask from
   * (inclusive), `seenAt` the ids already stored at exactly that time, `instant` the page inside one
   * instant holding more entries than a page. v2 walks by `cursor`. `page` is the v1 page of a
   * checkpoint written before the keyset walk (resumed from `lastTime`). None = the start.
   */
  next: { since?: string; seenAt?: string[]; instant?: { at: string; page: number }; cursor?: string; page?: number };
  /** Event time of the last in-window entry committed in this window (never an implausible one). */
  lastTime?: string;
  pages: number;
  entries: number;
}

export interface AuditCheckpoint {
  /** Every entry older than this (exclusive) has been archived. */
  watermark?: string;
  /**
   * Where the first walk of this stream began: with the watermark, the span the archive holds in
   * full (audit_v2_coverage, the access_used evidence window). Absent on checkpoints written before it was kept.
   */
  from?: string;
  /** The window being walked, when a walk was interrupted inside it. */
  window?: AuditWindow;
}

export interface WindowSettings {
  overlapMs: number;
  lagMs: number;
  backfillMs: number;
  since?: Date | undefined;
}

/**
 * The next window: from the watermark less the overlap (or the backfill start on a first
 * run) to now less the lag. Returns undefined when that window would be empty.
 */
export function planWindow(cp: AuditCheckpoint | null, now: Date, s: WindowSettings): AuditWindow | undefined {
  if (cp?.window) return cp.window;
  const before = now.getTime() - s.lagMs;
  const since = cp?.watermark ? Date.parse(cp.watermark) - s.overlapMs : (s.since?.getTime() ?? now.getTime() - s.backfillMs);
  if (!(before > since)) return undefined;
  return { since: new Date(since).toISOString(), before: new Date(before).toISOString(), next: {}, pages: 0, entries: 0 };
}

/** Fraction of the window covered so far, for progress and ETA. */
export function windowFraction(w: { since: string; before: string }, position?: string): number {
  if (!position) return 0;
  const start = Date.parse(w.since);
  const span = Date.parse(w.before) - start;
  return span > 0 ? Math.min(1, Math.max(0, (Date.parse(position) - start) / span)) : 1;
}

/** How far outside the window asked for an entry may be dated and still be archived (a bound's rounding). */
export const PLAUSIBLE_SLACK_MS = 86_400_000;
/** Entries dated after now by more than this are implausible whatever the window (clock skew allowance). */
export const FUTURE_SKEW_MS = 5 * 60_000;

export type Placement = 'in-window' | 'near' | 'implausible';

/**
 * Where an entry's time falls. Only in-window entries may move a checkpoint; near ones (a bound
 * rounded by the API) are archived; implausible ones (year 2999) are quarantined, never archived.
 */
export function placeTime(window: Pick<AuditWindow, 'since' | 'before'>, now: Date, ms: number): Placement {
  const since = Date.parse(window.since);
  const before = Date.parse(window.before);
  if (ms > now.getTime() + FUTURE_SKEW_MS) return 'implausible';
  if (ms >= since && ms < before) return 'in-window';
  return ms >= since - PLAUSIBLE_SLACK_MS && ms < before + PLAUSIBLE_SLACK_MS ? 'near' : 'implausible';
}
