import { spawn, spawnSync } from 'node:child_process';
import type { Config } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { postgresDataDir } from '../db/embedded-access.js';
import { isRunning, startDetached, stopDetached } from '../db/embedded-ctl.js';
import { FatalError } from '../util/fatal-error.js';
import { UsageError } from '../util/usage-error.js';

/** psql's connection settings as environment variables: the password never on a command line. */
function pgEnv(url: string, pgpass?: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = { ...process.env, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username), PGDATABASE: u.pathname.slice(1) };
  if (pgpass) env.PGPASSFILE = pgpass;
  else if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

const psqlOnPath = () => spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * `flarewatch psql [args…]`: psql on flarewatch's database (DATABASE_URL, or the embedded server,
 * started for the session and stopped after when it was not running). Exit code is psql's.
 */
export async function psqlCommand(config: Config, args: string[]): Promise<number> {
  if (!psqlOnPath()) throw new FatalError('psql is not installed: install the PostgreSQL client (Debian: apt-get install postgresql-client), or connect any client to the URL `npx flarewatch db start` prints');
  let env: NodeJS.ProcessEnv;
  let stop = async () => undefined as void;
  if (config.database.url) env = pgEnv(config.database.url);
  else {
    const server = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort);
    env = pgEnv(server.url, server.pgpass);
    stop = server.stop;
  }
  try {
    const child = spawn('psql', args, { stdio: 'inherit', env });
    // psql handles Ctrl-C itself (it cancels the query); this process must not die of it meanwhile.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    // A supervisor's SIGTERM/SIGHUP reaches psql too (it would otherwise outlive this process),
    // and the embedded server is then stopped below.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGTERM', forward).on('SIGHUP', forward);
    const code = await new Promise<number>((ok) => child.on('exit', (c, signal) => ok(c ?? (signal ? 1 : 0))));
    process.off('SIGINT', ignore).off('SIGTERM', forward).off('SIGHUP', forward);
    return code;
  } finally {
    await stop();
  }
}

/** `flarewatch db start|stop|status`: the embedded PostgreSQL as a server that outlives the command. */
export async function dbCommand(config: Config, action: string, print: (s: string) => void, demo = false): Promise<number> {
  if (config.database.url) throw new UsageError('db: DATABASE_URL is set, so flarewatch uses that server, not an embedded one');
  if (action === 'start') {
    const { server, already } = await startDetached(config.dataDir, config.embeddedPostgresPort);
    print(`${already ? 'already running' : 'started'}: ${server.databaseDir} on 127.0.0.1:${server.port}`);
    // Each hint a line to paste as printed: comments as '#', the command alone on its line.
    print(`  # psql (the PostgreSQL client), no password on the command line:\n  ${server.psqlHint}`);
    print(`  # stop it with:\n  npx flarewatch db stop${demo ? ' --demo' : ''}`);
    return 0;
  }
  const databaseDir = postgresDataDir(config.dataDir);
  if (action === 'stop') {
    print(`${stopDetached(databaseDir)}: ${databaseDir}`);
    return 0;
  }
  if (action === 'status') {
    const running = isRunning(databaseDir);
    print(`${running ? 'running' : 'not running'}: ${databaseDir}`);
    return running ? 0 : 3;
  }
  throw new UsageError(`db: unknown action "${action}" (start, stop or status)`);
}
