/**
 * Deterministic job ids: the same (job, stream, tick) gives the same id in every scheduler
 * replica, so a second replica's add is a no-op. BullMQ forbids ':' in custom ids, so the
 * parts are joined with '|' and a stream's own ':' becomes '@'.
 */

/** The tick a time falls in: floored to the minute, as ISO (2025-01-31T10:05:00.000Z). */
export function tickOf(at: Date): string {
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000).toISOString();
}

/** 2025-01-31T10:05:00.000Z → 20250131T1005Z */
export const tickLabel = (tick: string) => tick.replace(/[-:]/g, '').replace(/\d\d\.\d{3}Z$/, 'Z');

const safe = (s: string) => s.replace(/:/g, '@');

export const syncJobId = (stream: string, tick: string) => `sync|${safe(stream)}|${tickLabel(tick)}`;
export const checksJobId = (tick: string) => `checks|${tickLabel(tick)}`;
export const alertsJobId = (tick: string) => `alerts|${tickLabel(tick)}`;
export const digestJobId = (tick: string) => `digest|${tickLabel(tick)}`;
export const verifyJobId = (tick: string) => `verify|${tickLabel(tick)}`;
export const hygieneJobId = (tick: string) => `hygiene|${tickLabel(tick)}`;
