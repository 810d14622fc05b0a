// `flarewatch db start|stop|status`: the embedded PostgreSQL as a server that outlives the
// command (pg_ctl), so psql or any client can reach the data between flarewatch commands.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FatalError } from '../util/fatal-error.js';
import { binaryDir, type EmbeddedServer, isServing, POSTGRES_FLAGS, startEmbeddedPostgres } from './embedded.js';

/** As root, PostgreSQL's tools run as the 'postgres' user (they refuse root). */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function pgCtl(args: string[]): { ok: boolean; output: string } {
  const res = spawnSync(join(binaryDir(), 'pg_ctl'), args, { ...runAs(), encoding: 'utf8', env: { LC_MESSAGES: 'C', PATH: process.env.PATH ?? '' }, timeout: 60_000 });
  return { ok: res.status === 0, output: `${res.stdout ?? ''}${res.stderr ?? ''}`.trim() };
}

/** Start the server in the background (initialising it first when new). Returns whether it was already running. */
export async function startDetached(dataDir: string, port: number): Promise<{ server: EmbeddedServer; already: boolean }> {
  // Initialise (and create the database) the usual way, then hand the server over to pg_ctl.
  const probe = await startEmbeddedPostgres(dataDir, port);
  const admin = probe.url.replace(/\/flarewatch$/, '/postgres');
  await probe.stop();
  if (await isServing(admin)) return { server: probe, already: true };
  const res = pgCtl(['start', '-w', '-D', probe.databaseDir, '-l', join(probe.databaseDir, 'server.log'), '-o', [...POSTGRES_FLAGS, '-p', String(port)].join(' ')]);
  if (!res.ok) throw new FatalError(`embedded PostgreSQL did not start: ${res.output.split('\n').at(-1) ?? 'pg_ctl failed'}`);
  return { server: probe, already: false };
}

export const isRunning = (databaseDir: string) => existsSync(join(databaseDir, 'PG_VERSION')) && pgCtl(['status', '-D', databaseDir]).ok;

/** Stop a server started by startDetached (or any server on that folder). */
export function stopDetached(databaseDir: string): 'stopped' | 'not running' {
  if (!isRunning(databaseDir)) return 'not running';
  const res = pgCtl(['stop', '-w', '-m', 'fast', '-D', databaseDir]);
  if (!res.ok) throw new FatalError(`embedded PostgreSQL did not stop: ${res.output.split('\n').at(-1) ?? 'pg_ctl failed'}`);
  return 'stopped';
}
