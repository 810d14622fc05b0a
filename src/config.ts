import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { alertsConfigSchema, sinkSecretValues } from './config/alerts.js';
import { credentialEntrySchema, credentialSecrets, resolveCredentials } from './config/credentials.js';
import { parseRateLimit } from './util/rate-limit-setting.js';
import { ConfigFileError, readConfigFile as readFile } from './config/file.js';
import { describeIssue, errorMap } from './config/issues.js';
import { budgetConfigSchema } from './config/budget.js';
import { baseUrl, bool, connectionUrl, cron, date, duration, int, list, secret } from './config/fields.js';
import { ENV_KEYS, SECRET_KEYS } from './config/env-keys.js';
import { mayHoldSecret } from './config/secret-paths.js';
import { remediationConfigSchema } from './config/remediation.js';

// One schema for every setting. Environment variables (and the optional config file
// named by FLAREWATCH_CONFIG) are mapped onto it by ENV_KEYS (config/env-keys.ts); nothing else in the
// program reads process.env.

export const configSchema = z.strictObject({
  cloudflare: z
    .strictObject({
      apiToken: secret,
      email: z.string().email().optional(),
      apiKey: secret,
      baseUrl: baseUrl.default('https://api.cloudflare.com/client/v4'),
      // Named in ms for compatibility; takes any duration (30s).
      timeoutMs: duration('60s', 1_000),
      // A response body larger than this is refused as it arrives (32 MiB: a full page is a few MB).
      maxBodyBytes: int(32 * 1024 * 1024, 64 * 1024),
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
      // A month's entries are packed (compressed across entries, migration 0026) once it ended this many days ago: late entries are rare by then. 0 = the daemon and `run` do not pack.
      packAfterDays: int(7, 0, 3650),
      // `audit verify`: the request budget of one verification run (the daemon's daily job included).
      verifyMaxRequests: int(300, 1),
      // A day verified without a gap is checked again once this long has passed (late entries, Cloudflare's own repairs).
      verifyAgainAfter: duration('30d'),
      // The daemon's daily verification also refetches the days it finds gaps in.
      verifyRepair: bool(true),
    })
    .prefault({}),
  // The budget plan (src/sync/budget-plan.ts): the share of each rate-limit budget a round may use.
  budget: budgetConfigSchema,
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
      // Hygiene policies (remediation.policies): notices, then plans on their date. Daily, at an hour people read mail.
      hygieneSchedule: cron('0 9 * * *'),
      concurrency: int(4, 1, 64),
      httpPort: int(9464, 0, 65535),
      // Where the ops server listens. Loopback for a local `start`; the image and the manifests set 0.0.0.0.
      httpHost: z.string().min(1).default('127.0.0.1'),
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
          // Unset: the UI is read-only (no pause, retry, clean, ...). Set: every /queues request needs it (ops/queue-guard.ts).
          token: secret,
          // Host names /queues answers to (DNS rebinding); empty: loopback names, daemon.httpHost and publicName.
          allowedHosts: list,
          // The name operators reach the ops server by, behind a proxy or an ingress.
          publicName: z.string().min(1).optional(),
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
  review: z
    .strictObject({
      // The Ed25519 key that signs evidence packs (a PEM file outside the database); unset: <dataDir>/review-signing-key.pem.
      signingKey: z.string().min(1).optional(),
    })
    .prefault({}),
  // Custom SQL rules: every *.sql file directly in this folder (not its subfolders).
  rulesDir: z.string().default('./rules'),
  // What one custom SQL rule may return, and the reader role's password when an administrator manages it.
  customSql: z
    .strictObject({
      maxRows: int(100_000, 1),
      maxBytes: int(64 * 1024 * 1024, 1024),
      readerPassword: secret,
    })
    .prefault({}),
  // Alert sinks and routing (src/config/alerts.ts): `alerts.sinks.<name>: { kind, mode, minSeverity, rules, ...settings }`.
  alerts: alertsConfigSchema,
  // Acting on findings (src/config/remediation.ts): off unless enabled, writes only through a credential marked `write: true`.
  remediation: remediationConfigSchema,
});

export type Config = z.infer<typeof configSchema>;

export { ENV_KEYS, SECRET_KEYS } from './config/env-keys.js';

export class ConfigError extends Error {
  /** `input`: what was given (file, env, flags merged), so later checks can add their problems to the same report. */
  constructor(readonly problems: string[], readonly input?: Record<string, unknown>) {
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
      isSecret: (path: string) => secretPaths.has(path) || mayHoldSecret(path) || /(token|apikey|secret|password|routingkey|webhookurl|\.url)$/i.test(path),
    };
    const problems = result.error.issues.flatMap((issue) => describeIssue(issue, naming));
    const cf = (raw.cloudflare ?? {}) as Record<string, unknown>;
    if (cf.apiKey && !cf.email) problems.push('CLOUDFLARE_EMAIL: required with CLOUDFLARE_API_KEY');
    throw new ConfigError(problems, raw);
  }
  const config = result.data;
  const cf = config.cloudflare;
  if (cf.apiKey && !cf.email) throw new ConfigError(['CLOUDFLARE_EMAIL: required with CLOUDFLARE_API_KEY']);
  return config;
}

/** The values that must never reach a log line, an error or the database. */
export function secretValues(config: Config): string[] {
  const values = [config.cloudflare.apiToken, config.cloudflare.apiKey, config.daemon.queueUi.password, config.daemon.queueUi.token, config.customSql.readerPassword, ...credentialSecrets(config.cloudflare.credentials)];
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
