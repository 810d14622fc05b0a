/** A closed time window [since, before) an audit stream is walked over, with where the walk is in it. */
export interface AuditWindow {
  since: string;
  before: string;
  /** Where the next request starts: a page number (v1) or a cursor (v2); none = the start. */
  next: { page?: number; cursor?: string };
  /** Event time of the last entry committed in this window. */
  lastTime?: string;
  pages: number;
  entries: number;
}

export interface AuditCheckpoint {
  /** Every entry older than this (exclusive) has been archived. */
  watermark?: string;
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
