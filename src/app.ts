import { type Config, hasCredentials, poolSizeFor, secretValues } from './config.js';
import { colourWanted } from './config/terminal-env.js';
import type { Context } from './context.js';
import { credentialAccesses } from './credentials/access.js';
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

export function loggerFor(config: Config, terminal?: Terminal): Logger {
  return createLogger({ level: config.log.level, format: config.log.format, secrets: secretValues(config), terminal, color: colourWanted() });
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
    super('no Cloudflare credential: set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY), or list them under cloudflare.credentials in FLAREWATCH_CONFIG');
  }
}

export interface OpenOptions {
  log?: Logger;
  migrate?: boolean;
  requireCredentials?: boolean;
  /**
   * Stream walks this process runs at once besides checks and alerts (the daemon's worker
   * concurrency): the pool is sized from it, and a FLAREWATCH_DB_POOL_SIZE too small is refused.
   * Unset (one-shot commands): the pool is as configured and `run` walks as many streams at once
   * as it allows (syncConcurrency).
   */
  walks?: number;
}

/** Connect (starting the embedded PostgreSQL when DATABASE_URL is unset) and migrate. */
export async function openApp(config: Config, opts: OpenOptions = {}): Promise<App> {
  const log = opts.log ?? loggerFor(config);
  if (opts.requireCredentials && !hasCredentials(config)) throw new MissingCredentialsError();
  const poolSize = opts.walks === undefined ? (config.database.poolSize ?? 10) : poolSizeFor(config, opts.walks);
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
  const database = connectDatabase(databaseUrl, { max: poolSize, connectTimeoutMs: config.database.connectTimeout });
  const ctx: Context = { db: database.db, log, config, credentials: credentialAccesses(config), now: () => new Date() };
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
