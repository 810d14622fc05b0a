import { z } from 'zod';
import { parseDuration } from './duration.js';

export interface RateLimitSetting {
  requests: number;
  windowMs: number;
}

/** "1200/5m" (requests per duration) or "off" (undefined: no pacing). */
export function parseRateLimit(v: string, ctx: z.RefinementCtx): RateLimitSetting | undefined {
  if (v === 'off') return undefined;
  const m = /^(\d+)\/(.+)$/.exec(v);
  const windowMs = m ? parseDuration(m[2]!) : undefined;
  if (!m || !windowMs || Number(m[1]) < 1) {
    ctx.addIssue({ code: 'custom', message: `expected <requests>/<duration> such as 1200/5m, or off; got "${v}"` });
    return z.NEVER;
  }
  return { requests: Number(m[1]), windowMs };
}

export const rateLimitSetting = z.string().transform(parseRateLimit);
