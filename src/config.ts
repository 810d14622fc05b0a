import { readFileSync } from 'node:fs';
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { parseDuration } from './util/duration.js';
import { alertsConfigSchema, sinkSecretValues } from './alerts/routing-config.js';
import { credentialEntrySchema, credentialSecrets, resolveCredentials } from './credentials/config.js';
import { parseRateLimit } from './util/rate-limit-setting.js';
import { ConfigFileError, readConfigFile as readFile } from './config/file.js';
import { describeIssue, errorMap } from './config/issues.js';

// One schema for every setting. Environment variables (and the optional config file
// named by FLAREWATCH_CONFIG) are mapped onto it in ENV_KEYS below; nothing else in the
// program reads process.env.

// Every duration takes 90s, 15m, 24h, 7d (or a bare number of milliseconds); the result is milliseconds.
const duration = (fallback: string, minMs = 0) =>
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
const date = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const d = v instanceof Date ? v : new Date(v.trim());
  if (Number.isNaN(d.getTime()) || (typeof v === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(v.trim()))) {
    ctx.addIssue({ code: 'custom', message: `not a date: "${String(v)}" (use e.g. 2025-01-31 or 2025-01-31T12:00:00Z)` });
    return z.NEVER;
  }
  return d;
});

// A connection URL of one of these schemes. The value is never echoed: it usually holds a password.
const connectionUrl = (schemes: string[], example: string) =>
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

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const bool = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
    .default(fallback)
    .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const list = z
  .union([z.array(z.string()), z.string()])
  .default([])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

const secret = z.string().min(1).optional();

// A five-field cron expression (node-cron syntax), checked here so a typo stops the start. The
// scheduler ticks once a minute, so a six-field expression (with seconds) is refused, not ignored.
const cron = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => v.trim().split(/\s+/).length !== 6, { message: 'six fields (with seconds) are not supported: schedules run at most once a minute; use five fields, e.g. */5 * * * *' })
    .refine((v) => v.trim().split(/\s+/).length === 6 || (v.trim().split(/\s+/).length === 5 && validateCron(v)), {
      message: 'not a cron expression (five fields, e.g. */5 * * * *)',
    });

export const configSchema = z.strictObject({
  cloudflare: z
    .strictObject({
      apiToken: secret,
      email: z.string().email().optional(),
      apiKey: secret,
      baseUrl: z.string().url().default('https://api.cloudflare.com/client/v4'),
      // Named in ms for compatibility; takes any duration (30s).
      timeoutMs: duration('60s', 1_000),
      maxRetries: int(4, 0, 20),
      malformedRetries: int(3, 0, 20),
      // Cloudflare allows 1200 requests per 5 minutes per user or account token; "off" disables our pacing.
      rateLimit: z.string().default('1200/5m').transform(parseRateLimit),
      rateLimitMargin: z.coerce.number().min(0).max(0.9).default(0.05),
      accounts: list,
      credentials: z.array(credentialEntrySchema).optional(),
    })
    .prefault({})
    .transform((cf, ctx) => ({ ...cf, credentials: resolveCredentials(cf, ctx) })),
  database: z
    .strictObject({
      url: connectionUrl(['postgres', 'postgresql'], 'postgres://user:password@host:5432/database').optional(),
      // Unset: sized from the work a process runs at once (poolSizeFor); each stream walk holds one connection.
      poolSize: z.coerce.number().int().min(1).max(200).optional(),
      // Waiting longer than this for a connection (or for a free one from the pool) is an error, never a hang.
      connectTimeout: duration('30s'),
    })
    .prefault({}),
  dataDir: z.string().default('./.flarewatch'),
  embeddedPostgresPort: int(54329, 1, 65535),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
  audit: z
    .strictObject({
      // Why these defaults: Cloudflare publishes v2 sign-ins ~90 s after their timestamp, so a
      // window ends 2 minutes before now; the next window re-reads the last 10 minutes, so an
      // entry published up to lag + overlap = 12 minutes late is still archived.
      overlap: duration('10m'),
      lag: duration('2m'),
      backfill: duration('548d'),
      since: date.optional(),
      pageSize: int(1000, 1, 1000),
      retentionMonths: int(0, 0, 1200),
      partitionsAhead: int(2, 0, 24),
      // `audit verify`: the request budget of one verification run (the daemon's daily job included).
      verifyMaxRequests: int(300, 1),
      // A day verified without a gap is checked again once this long has passed (late entries, Cloudflare's own repairs).
      verifyAgainAfter: duration('30d'),
      // The daemon's daily verification also refetches the days it finds gaps in.
      verifyRepair: bool(true),
    })
    .prefault({}),
  sync: z
    .strictObject({
      streams: list,
      lastSeenResolution: duration('24h'),
      resumeMaxAge: duration('15m'),
      // A listing whose pages do not join up is walked again up to this many times before the walk gives
      // up marking anything deleted this time.
      rewalkLimit: int(2, 0, 10),
      // Mass-deletion guard: a walk that would mark more than this share of a stream's live rows deleted
      // (and at least massDeletionMin rows) marks nothing until a second complete walk agrees.
      massDeletionShare: z.coerce.number().min(0).max(1).default(0.5),
      massDeletionMin: int(3, 1),
      // How old a credential's verification may be before a walk verifies it again.
      credentialVerifyInterval: duration('1h'),
    })
    .prefault({}),
  // The daemon (start / worker / scheduler): Redis for the queues, cron schedules, operations.
  redis: z
    .strictObject({
      // Unset: `flarewatch start` runs redis-server from the PATH on a private port (data under dataDir).
      url: connectionUrl(['redis', 'rediss'], 'redis://host:6379').optional(),
    })
    .prefault({}),
  daemon: z
    .strictObject({
      auditSchedule: cron('*/5 * * * *'),
      inventorySchedule: cron('0 * * * *'),
      digestSchedule: cron('0 8 * * *'),
      verifySchedule: cron('30 3 * * *'),
      concurrency: int(4, 1, 64),
      httpPort: int(9464, 0, 65535),
      shutdownTimeout: duration('30s'),
      syncJobTimeout: duration('6h'),
      // A job's lock lasts this long without renewal; a dead worker's job is handed on after about twice this.
      jobLockDuration: duration('30s'),
      // Bull Board at /queues on the ops server: off by default, loopback connections only unless exposed.
      queueUi: z
        .strictObject({
          enabled: bool(false),
          expose: bool(false),
          user: z.string().min(1).optional(),
          password: secret,
        })
        .prefault({})
        .refine((q) => !q.expose || (q.user && q.password), {
          message: 'exposing the queue UI needs FLAREWATCH_QUEUE_UI_USER and FLAREWATCH_QUEUE_UI_PASSWORD (basic auth)',
          path: ['expose'],
        }),
    })
    .prefault({}),
  // Per-rule settings: `rules: { "<rule id>": { enabled?, severity?, ...thresholds } }`,
  // checked against each rule's own threshold list by src/rules/config.ts.
  rules: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  // Custom SQL rules: every *.sql file directly in this folder (not its subfolders).
  rulesDir: z.string().default('./rules'),
  // Alert sinks and routing (src/alerts/routing-config.ts): `alerts.sinks.<name>: { kind, mode, minSeverity, rules, ...settings }`.
  alerts: alertsConfigSchema,
});

export type Config = z.infer<typeof configSchema>;

// env var → path in the schema. Secrets also accept NAME_FILE (Docker secrets).
export const ENV_KEYS: Record<string, string> = {
  CLOUDFLARE_API_TOKEN: 'cloudflare.apiToken',
  CLOUDFLARE_EMAIL: 'cloudflare.email',
  CLOUDFLARE_API_KEY: 'cloudflare.apiKey',
  CLOUDFLARE_BASE_URL: 'cloudflare.baseUrl',
  FLAREWATCH_HTTP_TIMEOUT: 'cloudflare.timeoutMs',
  FLAREWATCH_MAX_RETRIES: 'cloudflare.maxRetries',
  FLAREWATCH_MALFORMED_RETRIES: 'cloudflare.malformedRetries',
  FLAREWATCH_RATE_LIMIT: 'cloudflare.rateLimit',
  FLAREWATCH_RATE_LIMIT_MARGIN: 'cloudflare.rateLimitMargin',
  FLAREWATCH_ACCOUNTS: 'cloudflare.accounts',
  DATABASE_URL: 'database.url',
  FLAREWATCH_DB_POOL_SIZE: 'database.poolSize',
  FLAREWATCH_DB_CONNECT_TIMEOUT: 'database.connectTimeout',
  FLAREWATCH_DATA_DIR: 'dataDir',
  FLAREWATCH_EMBEDDED_PG_PORT: 'embeddedPostgresPort',
  LOG_LEVEL: 'log.level',
  FLAREWATCH_LOG_FORMAT: 'log.format',
  FLAREWATCH_AUDIT_OVERLAP: 'audit.overlap',
  FLAREWATCH_AUDIT_LAG: 'audit.lag',
  FLAREWATCH_AUDIT_BACKFILL: 'audit.backfill',
  FLAREWATCH_AUDIT_SINCE: 'audit.since',
  FLAREWATCH_AUDIT_PAGE_SIZE: 'audit.pageSize',
  FLAREWATCH_AUDIT_RETENTION_MONTHS: 'audit.retentionMonths',
  FLAREWATCH_AUDIT_PARTITIONS_AHEAD: 'audit.partitionsAhead',
  FLAREWATCH_STREAMS: 'sync.streams',
  FLAREWATCH_LAST_SEEN_RESOLUTION: 'sync.lastSeenResolution',
  FLAREWATCH_RESUME_MAX_AGE: 'sync.resumeMaxAge',
  FLAREWATCH_REWALK_LIMIT: 'sync.rewalkLimit',
  FLAREWATCH_MASS_DELETION_SHARE: 'sync.massDeletionShare',
  FLAREWATCH_MASS_DELETION_MIN: 'sync.massDeletionMin',
  FLAREWATCH_CREDENTIAL_VERIFY_INTERVAL: 'sync.credentialVerifyInterval',
  FLAREWATCH_AUDIT_VERIFY_MAX_REQUESTS: 'audit.verifyMaxRequests',
  FLAREWATCH_AUDIT_VERIFY_AGAIN_AFTER: 'audit.verifyAgainAfter',
  FLAREWATCH_AUDIT_VERIFY_REPAIR: 'audit.verifyRepair',
  FLAREWATCH_SCHEDULE_VERIFY: 'daemon.verifySchedule',
  REDIS_URL: 'redis.url',
  FLAREWATCH_SCHEDULE_AUDIT: 'daemon.auditSchedule',
  FLAREWATCH_SCHEDULE_INVENTORY: 'daemon.inventorySchedule',
  FLAREWATCH_SCHEDULE_DIGEST: 'daemon.digestSchedule',
  FLAREWATCH_WORKER_CONCURRENCY: 'daemon.concurrency',
  FLAREWATCH_HTTP_PORT: 'daemon.httpPort',
  FLAREWATCH_SHUTDOWN_TIMEOUT: 'daemon.shutdownTimeout',
  FLAREWATCH_SYNC_JOB_TIMEOUT: 'daemon.syncJobTimeout',
  FLAREWATCH_JOB_LOCK_DURATION: 'daemon.jobLockDuration',
  FLAREWATCH_QUEUE_UI: 'daemon.queueUi.enabled',
  FLAREWATCH_QUEUE_UI_EXPOSE: 'daemon.queueUi.expose',
  FLAREWATCH_QUEUE_UI_USER: 'daemon.queueUi.user',
  FLAREWATCH_QUEUE_UI_PASSWORD: 'daemon.queueUi.password',
  FLAREWATCH_RULES_DIR: 'rulesDir',
  // Alerts: shortcuts for the common single-sink cases (sinks named slack, webhook, pagerduty, email).
  FLAREWATCH_SLACK_WEBHOOK_URL: 'alerts.sinks.slack.webhookUrl',
  FLAREWATCH_WEBHOOK_URL: 'alerts.sinks.webhook.url',
  FLAREWATCH_WEBHOOK_SECRET: 'alerts.sinks.webhook.secret',
  FLAREWATCH_PAGERDUTY_ROUTING_KEY: 'alerts.sinks.pagerduty.routingKey',
  FLAREWATCH_SMTP_URL: 'alerts.sinks.email.url',
  FLAREWATCH_SMTP_HOST: 'alerts.sinks.email.host',
  FLAREWATCH_SMTP_PORT: 'alerts.sinks.email.port',
  FLAREWATCH_SMTP_USER: 'alerts.sinks.email.user',
  FLAREWATCH_SMTP_PASSWORD: 'alerts.sinks.email.password',
  FLAREWATCH_SMTP_STARTTLS: 'alerts.sinks.email.starttls',
  FLAREWATCH_EMAIL_FROM: 'alerts.sinks.email.from',
  FLAREWATCH_EMAIL_TO: 'alerts.sinks.email.to',
  FLAREWATCH_ALERTS_LOG_SINK: 'alerts.logSink',
  FLAREWATCH_REMINDER_INTERVAL: 'alerts.reminderInterval',
  FLAREWATCH_DETECTION_REMINDER_INTERVAL: 'alerts.detectionReminderInterval',
  FLAREWATCH_ALERTS_BASELINE: 'alerts.baseline',
  FLAREWATCH_ALERTS_MAX_ATTEMPTS: 'alerts.maxAttempts',
};

export const SECRET_KEYS = [
  'CLOUDFLARE_API_TOKEN', 'CLOUDFLARE_API_KEY', 'DATABASE_URL', 'REDIS_URL',
  'FLAREWATCH_SLACK_WEBHOOK_URL', 'FLAREWATCH_WEBHOOK_SECRET', 'FLAREWATCH_PAGERDUTY_ROUTING_KEY',
  'FLAREWATCH_SMTP_URL', 'FLAREWATCH_SMTP_PASSWORD', 'FLAREWATCH_QUEUE_UI_PASSWORD',
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object') {
      mergeInto(current as Record<string, unknown>, value as Record<string, unknown>);
    } else target[key] = value;
  }
}

function readConfigFile(file: string): Record<string, unknown> {
  try {
    return readFile(file);
  } catch (err) {
    if (err instanceof ConfigFileError) throw new ConfigError([`FLAREWATCH_CONFIG: ${err.message}`]);
    throw err;
  }
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (SECRET_KEYS.includes(name) && file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError([`${name}_FILE: cannot read ${file}: ${(err as Error).message}`]);
    }
  }
  const value = env[name];
  return value === '' ? undefined : value;
}

const envNameFor = (path: string) => Object.entries(ENV_KEYS).find(([, p]) => p === path)?.[0];

/**
 * Parse once: `defaults` (a command's own), then the config file, then env, then `overrides`
 * (command-line flags). Throws ConfigError naming every bad key.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
  defaults: Record<string, unknown> = {},
): Config {
  const raw: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(defaults)) setPath(raw, path, value);
  if (env.FLAREWATCH_CONFIG) mergeInto(raw, readConfigFile(env.FLAREWATCH_CONFIG));
  for (const [name, path] of Object.entries(ENV_KEYS)) {
    const value = envValue(env, name);
    if (value !== undefined) setPath(raw, path, value);
  }
  for (const [path, value] of Object.entries(overrides)) if (value !== undefined) setPath(raw, path, value);
  const result = configSchema.safeParse(raw, { error: errorMap });
  if (!result.success) {
    const secretPaths = new Set(SECRET_KEYS.map((k) => ENV_KEYS[k]));
    const naming = {
      name: (path: string) => {
        const name = envNameFor(path);
        return name ? `${name} (${path})` : path;
      },
      valueAt: (path: PropertyKey[]) => path.reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined), raw),
      isSecret: (path: string) => secretPaths.has(path) || /(token|apikey|secret|password|routingkey|webhookurl|\.url)$/i.test(path),
    };
    throw new ConfigError(result.error.issues.flatMap((issue) => describeIssue(issue, naming)));
  }
  const config = result.data;
  const cf = config.cloudflare;
  if (cf.apiKey && !cf.email) throw new ConfigError(['CLOUDFLARE_EMAIL: required with CLOUDFLARE_API_KEY']);
  return config;
}

/** The values that must never reach a log line, an error or the database. */
export function secretValues(config: Config): string[] {
  const values = [config.cloudflare.apiToken, config.cloudflare.apiKey, config.daemon.queueUi.password, ...credentialSecrets(config.cloudflare.credentials)];
  const dbPassword = config.database.url ? safePassword(config.database.url) : undefined;
  const redisPassword = config.redis.url ? safePassword(config.redis.url) : undefined;
  const all = [...values, dbPassword, redisPassword, ...sinkSecretValues(config.alerts)].filter(
    (v): v is string => typeof v === 'string' && v.length >= 4,
  );
  return [...new Set(all)];
}

function safePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

export function hasCredentials(config: Config): boolean {
  return config.cloudflare.credentials.length > 0;
}

/** Streams `run` walks at once on a pool of `poolSize`: one connection each, one left for everything else. */
export const syncConcurrency = (poolSize: number) => Math.max(1, Math.min(4, poolSize - 1));

/**
 * Connections a process needs: one per stream walk at once (its advisory lock and its pages share
 * that connection) plus `extra` for checks, alert delivery and the metrics scrape. An explicit
 * FLAREWATCH_DB_POOL_SIZE smaller than that would hang, so it is refused at start.
 */
export function poolSizeFor(config: Config, walks: number, extra = 3): number {
  const needed = walks + extra;
  const set = config.database.poolSize;
  if (set === undefined) return Math.max(10, needed);
  if (set < needed) {
    throw new ConfigError([
      `FLAREWATCH_DB_POOL_SIZE (database.poolSize): ${set} is too small for ${walks} stream walks at once (each holds one connection) plus ${extra} for checks, alerts and metrics; set it to at least ${needed}, or lower FLAREWATCH_WORKER_CONCURRENCY`,
    ]);
  }
  return set;
}
