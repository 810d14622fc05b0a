import { validate as validateCron } from 'node-cron';
import { cronFieldProblem } from './cron-fields.js';
import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

// The kinds of value settings take, each with its parsing and its plain-words error.

// Every duration takes 90s, 15m, 24h, 7d (or a bare number of milliseconds); the result is milliseconds.
export const duration = (fallback: string, minMs = 0) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const ms = typeof v === 'number' ? v : parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a duration: "${v}" (use e.g. 90s, 15m, 24h, 7d)` });
        return z.NEVER;
      }
      if (ms < minMs) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${minMs / 1000}s, got "${v}"` });
        return z.NEVER;
      }
      return ms;
    });

// A date or date-time (2025-01-31, 2025-01-31T12:00:00Z).
export const date = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const d = v instanceof Date ? v : new Date(v.trim());
  if (Number.isNaN(d.getTime()) || (typeof v === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(v.trim()))) {
    ctx.addIssue({ code: 'custom', message: `not a date: "${String(v)}" (use e.g. 2025-01-31 or 2025-01-31T12:00:00Z)` });
    return z.NEVER;
  }
  return d;
});

// A connection URL of one of these schemes. The value is never echoed: it usually holds a password.
export const connectionUrl = (schemes: string[], example: string) =>
  z.string().refine(
    (v) => {
      try {
        const u = new URL(v);
        // A socket URL (postgres:///db?host=/var/run/postgresql) names its host in the query.
        return schemes.includes(u.protocol.replace(/:$/, '')) && (u.hostname !== '' || u.searchParams.has('host'));
      } catch {
        return false;
      }
    },
    { message: `not a ${schemes[0]} URL (expected ${example})` },
  );

// The API's base URL. Credentials in it (user:password@) cannot work (the token goes in a header)
// and would be printed wherever the URL is (errors, doctor, status): refused, and never echoed.
export const baseUrl = z
  .string()
  .url()
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return u.username === '' && u.password === '';
      } catch {
        return true;
      }
    },
    { message: 'must not carry credentials (user:password@): flarewatch sends the token in a header; remove them from the URL' },
  );

export const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const bool = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
    .default(fallback)
    .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

export const list = z
  .union([z.array(z.string()), z.string()])
  .default([])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

export const secret = z.string().min(1).optional();

// A five-field cron expression (node-cron syntax), checked here so a typo stops the start. The
// scheduler ticks once a minute, so a six-field expression (with seconds) is refused, not ignored.
export const cron = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => v.trim().split(/\s+/).length !== 6, { message: 'six fields (with seconds) are not supported: schedules run at most once a minute; use five fields, e.g. */5 * * * *' })
    .superRefine((v, ctx) => {
      if (v.trim().split(/\s+/).length === 6) return;
      const problem = cronFieldProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: `not a valid schedule: ${problem}` });
      else if (!validateCron(v)) ctx.addIssue({ code: 'custom', message: 'not a cron expression (five fields, e.g. */5 * * * *)' });
    });
