import { z } from 'zod';
import { type LegacySettings, SEVERITIES, type Severity } from './types.js';

// Thresholds that pair a value with a severity are written as pairs, so a value can never
// meet another value's severity (the old `windows` + `severities` lists paired by sort order:
// [1, 7, 30] with [high, medium, low] gave 30 days `high` and 1 day `low`).

export interface Tier {
  days: number;
  severity: Severity;
}

export const tiersSchema = z
  .array(
    z
      .object({
        days: z.coerce.number().positive('days must be more than 0'),
        severity: z.enum(SEVERITIES, { message: `severity must be one of ${SEVERITIES.join(', ')}` }),
      })
      .strict(),
    { message: 'expected a list like [{days: 30, severity: low}, {days: 7, severity: medium}]' },
  )
  .min(1, 'give at least one tier')
  .refine((tiers) => new Set(tiers.map((t) => t.days)).size === tiers.length, 'two tiers with the same days')
  .transform((tiers) => [...tiers].sort((a, b) => b.days - a.days));

const show = (tiers: Tier[]) => `[${tiers.map((t) => `{days: ${t.days}, severity: ${t.severity}}`).join(', ')}]`;
const numbers = (v: unknown) => (Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v]).map((x) => Number(String(x).trim()));
const strings = (v: unknown) => (Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v]).map((x) => String(x).trim());

/**
 * `windows` (+ `severities`) → `tiers`. Unambiguous only when the windows are written widest
 * first, which is how the old form paired them; anything else is refused with the tiers to write.
 */
export function legacyTiers(ruleId: string, defaults: { windows: number[]; severities: Severity[] }) {
  return (given: Record<string, unknown>): LegacySettings => {
    if (!('windows' in given) && !('severities' in given)) return { settings: given, notes: [], problems: [] };
    const { windows: w, severities: s, ...rest } = given;
    const key = `rules.${ruleId}`;
    if ('tiers' in given) return { settings: rest, notes: [], problems: [`${key}: give tiers only (windows and severities are its old form)`] };
    const windows = w === undefined ? defaults.windows : numbers(w);
    const severities = s === undefined ? defaults.severities.slice(0, windows.length) : strings(s);
    const written = windows.map((days, i) => ({ days, severity: severities[i] as Severity }));
    const descending = windows.every((d, i) => i === 0 || d < windows[i - 1]!);
    if (windows.length !== severities.length || !descending || !tiersSchema.safeParse(written).success) {
      const hint = tiersSchema.safeParse(written).success ? ` (paired as written: tiers: ${show(written)})` : '';
      return {
        settings: rest,
        notes: [],
        problems: [`${key}.windows/severities: the old form pairs values and severities by sort order, which is ambiguous here; write tiers instead${hint}`],
      };
    }
    return { settings: { ...rest, tiers: written }, notes: [`${key}: windows/severities read as tiers: ${show(written)}; write tiers instead`], problems: [] };
  };
}
