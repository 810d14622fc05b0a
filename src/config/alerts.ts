// The `alerts` section of the config: named sinks (kind + routing + the sink's own settings,
// checked by that sink's schema so a bad key stops the start), reminders, retries, backoff.
// The env shortcuts (FLAREWATCH_SLACK_WEBHOOK_URL, ...) land in sinks named after their kind.
import { z } from 'zod';
import { parseDuration } from '../util/duration.js';
import { didYouMean } from '../util/did-you-mean.js';
import { SEVERITIES } from './severity.js';
import { shapeKeys } from './shape.js';
import { isSinkKind, SINK_KINDS, SINK_SETTINGS, type SinkKind, type SinkSettings } from './sinks.js';

const bool = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
    .default(fallback)
    .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const duration = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((v, ctx) => {
      const ms = typeof v === 'number' ? v : v === 'off' ? 0 : parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a duration: "${v}" (use e.g. 90s, 15m, 24h, 7d, or off)` });
        return z.NEVER;
      }
      return ms;
    });

const ROUTING_KEYS = new Set(['kind', 'mode', 'minSeverity', 'rules']);

/** Env values arrive as strings: give the email sink its numbers, lists and booleans, and read an SMTP URL. */
function normaliseEmail(raw: Record<string, unknown>): Record<string, unknown> {
  const out = { ...raw };
  if (typeof out.url === 'string') {
    try {
      const u = new URL(out.url);
      out.host ??= u.hostname;
      if (u.port) out.port ??= Number(u.port);
      out.secure ??= u.protocol === 'smtps:';
      if (u.username) out.user ??= decodeURIComponent(u.username);
      if (u.password) out.password ??= decodeURIComponent(u.password);
    } catch {
      // Left for the schema: host missing names the key.
    }
  }
  if (typeof out.port === 'string') out.port = Number(out.port);
  if (typeof out.to === 'string') out.to = out.to.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of ['secure', 'tlsRejectUnauthorized']) if (typeof out[k] === 'string') out[k] = out[k] === 'true';
  delete out.url;
  return out;
}

const sinkSchema = z
  .record(z.string(), z.unknown())
  .transform((raw, ctx) => {
    const kind = raw.kind;
    if (typeof kind !== 'string' || !isSinkKind(kind)) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `one of ${SINK_KINDS.join(', ')}` });
      return z.NEVER;
    }
    const routing = z
      .object({
        mode: z.enum(['immediate', 'digest']).default('immediate'),
        minSeverity: z.enum(SEVERITIES).default('info'),
        rules: z
          .union([z.array(z.string()), z.string()])
          .default([])
          .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean)),
      })
      .safeParse(raw);
    // Sink schemas strip what they do not know; a misspelt key (minSeverty) must stop the start instead.
    const module = SINK_SETTINGS[kind] as unknown as SinkSettings<z.ZodType>;
    const known = [...ROUTING_KEYS, ...shapeKeys(module.schema), ...(kind === 'email' ? ['url'] : [])];
    for (const key of Object.keys(raw).filter((k) => !known.includes(k))) {
      ctx.addIssue({ code: 'custom', path: [key], message: `unknown setting for a ${kind} sink${didYouMean(key, known) || ` (known: ${known.join(', ')})`}` });
    }
    const given = kind === 'email' ? normaliseEmail(raw) : raw;
    const settings = Object.fromEntries(Object.entries(given).filter(([k]) => !ROUTING_KEYS.has(k)));
    const parsed = module.schema.safeParse(settings);
    for (const issue of [...(routing.error?.issues ?? []), ...(parsed.error?.issues ?? [])]) {
      ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.message });
    }
    if (routing.success && kind === 'pagerduty' && routing.data.mode === 'digest') {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: 'a PagerDuty sink takes per-finding events (trigger, resolve), not digests: use mode: immediate (it would drop every alert)' });
      return z.NEVER;
    }
    if (!routing.success || !parsed.success) return z.NEVER;
    return { kind: kind as SinkKind, ...routing.data, settings: parsed.data as Record<string, unknown> };
  });

export type SinkSetup = z.output<typeof sinkSchema>;

// A sink named after a kind (as the env shortcuts create them) needs no `kind`.
const withKinds = (v: unknown) => {
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>).map(([name, s]) => [
      name,
      s && typeof s === 'object' && !('kind' in s) && isSinkKind(name) ? { kind: name, ...s } : s,
    ]),
  );
};

export const alertsConfigSchema = z
  .strictObject({
    sinks: z.preprocess(withKinds, z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), sinkSchema)).default({}),
    /** Add a `log` sink when none is named `log` (the default: alerts always leave a trace). */
    logSink: bool(true),
    /**
     * A rule's first check (and the first walk of an account) records its findings without
     * per-finding alerts; each sink gets one summary instead. false: alert them one by one.
     */
    baseline: bool(true),
    /** Remind about a state finding still open this long after its episode's last alert ("off": never). */
    reminderInterval: duration('7d'),
    /** The same for detections (open until acknowledged); off by default: a detection is alerted once. */
    detectionReminderInterval: duration('off'),
    maxAttempts: z.coerce.number().int().min(1).max(100).default(8),
    backoff: z
      .strictObject({ initial: duration('30s'), max: duration('1h') })
      .prefault({}),
    /** How long a claimed delivery may stay `sending` before another deliverer takes it over. */
    lease: duration('5m'),
    /** HTTP sinks may not connect to loopback, link-local, private or unique-local addresses (checked at connect time). */
    refusePrivateAddresses: bool(false),
  })
  .prefault({})
  .transform((a) => ({
    ...a,
    sinks:
      a.logSink && !a.sinks.log
        ? { ...a.sinks, log: { kind: 'log' as SinkKind, mode: 'immediate' as const, minSeverity: 'info' as const, rules: [] as string[], settings: SINK_SETTINGS.log.schema.parse({}) as Record<string, unknown> } }
        : a.sinks,
  }));

export type AlertsConfig = z.output<typeof alertsConfigSchema>;

/** Every secret in the configured sinks, for the logger's scrub list. */
export function sinkSecretValues(alerts: AlertsConfig): string[] {
  return Object.values(alerts.sinks).flatMap((s) => {
    try {
      return (SINK_SETTINGS[s.kind] as unknown as SinkSettings<z.ZodType>).secrets(s.settings);
    } catch {
      return [];
    }
  });
}
