import { type ApiAccess } from './cloudflare/client.js';
import { limitedFetch, slidingWindowLimiter } from './cloudflare/rate-limit.js';
import { type Config, hasCredentials, secretValues } from './config.js';
import type { Context } from './context.js';
import { connectDatabase, type Database } from './db/client.js';
import { startEmbeddedPostgres } from './db/embedded.js';
import { databaseConnectError } from './db/connect-error.js';
import { runMigrations } from './db/migrate.js';
import pg from 'pg';
import { createLogger, type Logger } from './log.js';
import type { Terminal } from './util/terminal.js';
import { UsageError } from './util/usage-error.js';

export interface App {
  ctx: Context;
  database: Database;
  databaseUrl: string;
  /** Set when flarewatch started its own PostgreSQL: how to reach it with psql. */
  psqlHint?: string;
  close(): Promise<void>;
}

/** One limiter per credential and process; the daemon replaces it with one shared through Redis. */
export function apiAccess(config: Config): ApiAccess {
  const cf = config.cloudflare;
  const limit = cf.rateLimit;
  const limiter = limit
    ? slidingWindowLimiter({ requests: Math.max(1, Math.floor(limit.requests * (1 - cf.rateLimitMargin))), windowMs: limit.windowMs })
    : undefined;
  return {
    fetch: limiter ? limitedFetch(limiter) : undefined,
    limiter,
    baseUrl: cf.baseUrl,
    apiToken: cf.apiToken,
    email: cf.email,
    apiKey: cf.apiKey,
    timeoutMs: cf.timeoutMs,
    maxRetries: cf.maxRetries,
    malformedRetries: cf.malformedRetries,
  };
}

export function loggerFor(config: Config, terminal?: Terminal): Logger {
  return createLogger({ level: config.log.level, format: config.log.format, secrets: secretValues(config), terminal });
}

/** One connection before anything else, so a wrong DATABASE_URL fails in one line, in seconds. */
async function probeDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'flarewatch' });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => undefined);
  }
}

export class MissingCredentialsError extends UsageError {
  constructor() {
    super('no Cloudflare credential: set CLOUDFLARE_API_TOKEN, or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY');
  }
}

/** Connect (starting the embedded PostgreSQL when DATABASE_URL is unset) and migrate. */
export async function openApp(config: Config, opts: { log?: Logger; migrate?: boolean; requireCredentials?: boolean } = {}): Promise<App> {
  const log = opts.log ?? loggerFor(config);
  if (opts.requireCredentials && !hasCredentials(config)) throw new MissingCredentialsError();
  let databaseUrl = config.database.url;
  let psqlHint: string | undefined;
  let stopEmbedded = async () => undefined as void;
  if (!databaseUrl) {
    const server = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort);
    databaseUrl = server.url;
    psqlHint = server.psqlHint;
    stopEmbedded = server.stop;
    log.debug({ psql: psqlHint }, 'using the embedded PostgreSQL (set DATABASE_URL to use your own)');
  }
  try {
    await probeDatabase(databaseUrl);
    if (opts.migrate !== false) await runMigrations(databaseUrl, { log });
  } catch (err) {
    await stopEmbedded();
    throw config.database.url ? databaseConnectError(err, databaseUrl) : err;
  }
  const database = connectDatabase(databaseUrl, config.database.poolSize);
  const ctx: Context = { db: database.db, log, config, api: apiAccess(config), now: () => new Date() };
  return {
    ctx,
    database,
    databaseUrl,
    psqlHint,
    async close() {
      await database.close();
      await stopEmbedded();
    },
  };
}
