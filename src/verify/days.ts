export const DAY_MS = 86_400_000;

/** The UTC day of a time, as YYYY-MM-DD. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const dayStart = (day: string) => Date.parse(`${day}T00:00:00.000Z`);
export const nextDay = (day: string) => dayOf(dayStart(day) + DAY_MS);

/** Every day in [from, to). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d < to; d = nextDay(d)) out.push(d);
  return out;
}

/** Consecutive runs of days (each walked as one window: entries of quiet days cost nothing extra). */
export function runsOf(days: string[]): string[][] {
  const runs: string[][] = [];
  for (const d of days) {
    const last = runs.at(-1);
    if (last && nextDay(last.at(-1)!) === d) last.push(d);
    else runs.push([d]);
  }
  return runs;
}
